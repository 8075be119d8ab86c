/**
 * dlopt's public API. Everything not exported here is internal and may change.
 */
export { DloptError, UsageError, DataError, TrainingDivergedError } from './errors.js';

export { initBackend, type BackendChoice } from './backend/backend.js';

export type { ImageSet } from './data/image-set.js';
export type { Dataset, SplitName } from './data/dataset.js';
export { loadDataset, type LoadDatasetOptions } from './data/load-dataset.js';
export { loadCifar10, type Cifar10LoadOptions, type SplitMode } from './data/cifar10.js';
export { CIFAR10, decodeCifarBatch, encodeCifarBatch } from './data/cifar10-format.js';
export { loadImageFolder, type ImageFolderOptions } from './data/image-folder.js';
export { locateData, cacheDirectory, CIFAR10_ARCHIVE, type LocateOptions } from './data/locate.js';
export { downloadVerified, DownloadError, type DownloadRequest } from './data/download.js';
export { makeSplits, type Splits, type SplitOptions } from './data/splits.js';
export { makeBatch, batchRanges, PIXEL_SCALE } from './data/batches.js';

export type { ModelPreset, ModelBuildOptions } from './models/preset.js';
export { PRESETS, findPreset, createModel, compileClassifier } from './models/presets.js';
export { buildSeedCnn } from './models/seed-cnn.js';
export { layerFlops } from './models/flops.js';
export { summarizeModel, formatSummary, type ModelSummary, type LayerRow } from './models/summary.js';

export { fitModel, type FitOptions, type FitObserver, type EpochMetrics } from './train/fit.js';
export { evaluateModel, type Evaluation } from './train/evaluate.js';
export { RunDir, RUN_FILES } from './train/run-dir.js';

export { saveModel, loadModel } from './io/model-files.js';
