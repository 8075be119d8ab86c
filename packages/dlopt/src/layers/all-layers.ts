import { AttentionPooling } from './attention-pooling.js';
import { BatchRenormalization } from './batch-renormalization.js';
import { GroupedConv2D } from './grouped-conv2d.js';
import { LocalResponseNormalization } from './local-response-normalization.js';
import { MixtureOfExperts } from './mixture-of-experts.js';
import { MultiHeadSelfAttention } from './multi-head-attention.js';
import { fixSeparableConvConfig } from './separable-conv-config-fix.js';
import { SpatialDropout2D } from './spatial-dropout2d.js';

fixSeparableConvConfig();

/**
 * Every layer class dlopt adds to tfjs-layers. Importing this module
 * registers them all for deserialization, which loading a saved model that
 * uses one needs (each layer registers itself when its file is imported).
 */
export const DLOPT_LAYERS = [
  GroupedConv2D,
  LocalResponseNormalization,
  BatchRenormalization,
  MultiHeadSelfAttention,
  AttentionPooling,
  MixtureOfExperts,
  SpatialDropout2D,
] as const;
