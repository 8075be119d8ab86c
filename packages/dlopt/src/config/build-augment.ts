import type { Augmentation, FloatAugmentation } from '../augment/augmentation.js';
import { ColorJitter } from '../augment/color.js';
import { RandomCrop } from '../augment/crop.js';
import { Cutout, RandomErasing } from '../augment/cutout.js';
import { HorizontalFlip } from '../augment/flip.js';
import { RandomResizedCrop, RandomRotation, RandomTranslation } from '../augment/geometric.js';
import { CutMix, GaussianNoise, Mixup } from '../augment/mix.js';
import { AugmentPipeline } from '../augment/pipeline.js';
import { RandAugment } from '../augment/rand-augment.js';
import type { AugmentConfig } from './train-config.js';

/** Options of an augmentation given as `true` (all defaults) or an object. */
function opts<T extends object>(v: boolean | T | undefined): Partial<T> | undefined {
  if (v === undefined || v === false) return undefined;
  return v === true ? {} : v;
}

/**
 * The augmentation pipeline a config describes, in a fixed order: geometry
 * (resized crop, crop, translate, rotate, flip), RandAugment, colour,
 * erasing (cutout, random erasing), cutmix; then on floats mixup and noise.
 */
export function buildAugmentation(config: AugmentConfig): AugmentPipeline {
  const bytes: Augmentation[] = [];
  const floats: FloatAugmentation[] = [];
  const resized = opts(config.resizedCrop);
  if (resized) bytes.push(new RandomResizedCrop(resized.scale, resized.ratio));
  const crop = opts(config.crop);
  if (crop) bytes.push(new RandomCrop(crop.padding ?? 4, crop.mode ?? 'reflect'));
  if (config.translate) bytes.push(new RandomTranslation(config.translate));
  if (config.rotate) bytes.push(new RandomRotation(config.rotate));
  const flip = opts(config.flip);
  if (flip) bytes.push(new HorizontalFlip(flip.p ?? 0.5));
  const rand = opts(config.randAugment);
  if (rand) bytes.push(new RandAugment(rand.n ?? 2, rand.m ?? 9));
  if (config.color) {
    const c = config.color;
    bytes.push(new ColorJitter(c.brightness ?? 0, c.contrast ?? 0, c.saturation ?? 0, c.hue ?? 0));
  }
  const cutout = opts(config.cutout);
  if (cutout) bytes.push(new Cutout(cutout.size ?? 8, cutout.p ?? 1));
  const erasing = opts(config.erasing);
  if (erasing) bytes.push(new RandomErasing(erasing.p ?? 0.5, erasing.scale, erasing.ratio));
  if (config.cutmix !== undefined) {
    const c = typeof config.cutmix === 'number' ? { alpha: config.cutmix } : config.cutmix;
    bytes.push(new CutMix(c.alpha ?? 1, c.p ?? 0.5));
  }
  if (config.mixup !== undefined) floats.push(new Mixup(typeof config.mixup === 'number' ? config.mixup : config.mixup.alpha));
  if (config.noise !== undefined) floats.push(new GaussianNoise(config.noise));
  return new AugmentPipeline(bytes, floats);
}
