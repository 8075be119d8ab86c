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
export { PRESETS, findPreset, createModel } from './models/presets.js';
export { buildSeedCnn } from './models/seed-cnn.js';
export { buildVggBn, type VggOptions } from './models/vgg-bn.js';
export { buildResNetSmall, type ResNetOptions } from './models/resnet-small.js';
export type { Regularization } from './models/preset.js';
export { residualBlock, type ResidualBlockOptions } from './layers/residual-block.js';
export type { CountsFlops } from './layers/counts-flops.js';
export { DLOPT_LAYERS } from './layers/all-layers.js';
export { GroupedConv2D, type GroupedConv2DArgs } from './layers/grouped-conv2d.js';
export { LocalResponseNormalization, type LocalResponseNormalizationArgs } from './layers/local-response-normalization.js';
export { BatchRenormalization, type BatchRenormalizationArgs } from './layers/batch-renormalization.js';
export { MultiHeadSelfAttention, type MultiHeadSelfAttentionArgs } from './layers/multi-head-attention.js';
export { AttentionPooling, type AttentionPoolingArgs } from './layers/attention-pooling.js';
export { MixtureOfExperts, type MixtureOfExpertsArgs } from './layers/mixture-of-experts.js';
export { SpatialDropout2D, type SpatialDropout2DArgs } from './layers/spatial-dropout2d.js';
export { layerFlops } from './models/flops.js';
export { summarizeModel, formatSummary, type ModelSummary, type LayerRow } from './models/summary.js';

export { fitModel, type FitOptions, type FitObserver, type EpochMetrics } from './train/fit.js';
export { compileClassifier, createClassifier, smoothedCrossEntropy } from './train/compile.js';
export { createOptimizer, OPTIMIZER_NAMES, type OptimizerName, type OptimizerSettings } from './train/optimizers/create-optimizer.js';
export { TrainingOptimizer, type TrainingOptimizerOptions } from './train/optimizers/training-optimizer.js';
export type { Callback, CallbackState, TrainingContext } from './train/callbacks/callback.js';
export { EarlyStopping, type EarlyStoppingOptions } from './train/callbacks/early-stopping.js';
export { LearningRateController, type PlateauOptions } from './train/callbacks/learning-rate.js';
export { WeightAverage } from './train/callbacks/ema.js';
export type { LearningRateSchedule, SchedulePosition } from './train/schedules/schedule.js';
export { ConstantRate } from './train/schedules/constant.js';
export { StepDecay } from './train/schedules/step-decay.js';
export { ExponentialDecay } from './train/schedules/exponential-decay.js';
export { CosineDecay } from './train/schedules/cosine-decay.js';
export { OneCycle } from './train/schedules/one-cycle.js';
export type { Augmentation, FloatAugmentation } from './augment/augmentation.js';
export { gatherBatch, type ImageBatch } from './augment/image-batch.js';
export { AugmentPipeline } from './augment/pipeline.js';
export { HorizontalFlip } from './augment/flip.js';
export { RandomCrop } from './augment/crop.js';
export { Cutout, RandomErasing } from './augment/cutout.js';
export { RandomRotation, RandomTranslation, RandomResizedCrop } from './augment/geometric.js';
export { ColorJitter } from './augment/color.js';
export { Mixup, CutMix, GaussianNoise } from './augment/mix.js';
export { RandAugment, RAND_AUGMENT_OPS } from './augment/rand-augment.js';
export { evaluateModel, type Evaluation } from './train/evaluate.js';
export { classMetrics, type ClassMetrics } from './train/class-metrics.js';
export { RunDir, RUN_FILES } from './train/run-dir.js';

export { saveModel, loadModel } from './io/model-files.js';

export { TrainConfigSchema, type TrainConfig, type TrainConfigInput } from './config/train-config.js';
export { parseTrainConfig, readConfigFile, mergeSettings } from './config/load-config.js';
export { buildAugmentation } from './config/build-augment.js';
export { runTraining, type TrainingRunOptions, type TrainingRunResult, type TrainingSetup } from './runner/run-training.js';
export { saveCheckpoint, loadCheckpoint, type Checkpoint } from './train/checkpoint.js';

export { createStudy, loadStudy, Study, type Objective, type OptimizeOptions, type CreateStudyOptions, type LoadStudyOptions, type StudyCallback } from './tune/study.js';
export { Trial, type SuggestNumberOptions } from './tune/trial.js';
export { TrialPruned } from './tune/trial-pruned.js';
export type { Distribution, FloatDistribution, IntDistribution, CategoricalDistribution, ParamValue } from './tune/distributions.js';
export type { FrozenTrial, TrialState, Direction } from './tune/trial-state.js';
export type { Sampler, SamplingContext } from './tune/samplers/sampler.js';
export { RandomSampler } from './tune/samplers/random-sampler.js';
export { GridSampler } from './tune/samplers/grid-sampler.js';
export { TPESampler } from './tune/samplers/tpe-sampler.js';
export { GPSampler } from './tune/samplers/gp-sampler.js';
export { EvolutionSampler } from './tune/samplers/evolution-sampler.js';
export type { Pruner, PruningContext } from './tune/pruners/pruner.js';
export { NopPruner } from './tune/pruners/nop-pruner.js';
export { MedianPruner } from './tune/pruners/median-pruner.js';
export { PercentilePruner } from './tune/pruners/percentile-pruner.js';
export { SuccessiveHalvingPruner } from './tune/pruners/successive-halving-pruner.js';
export { HyperbandPruner, hyperbandBracket } from './tune/pruners/hyperband-pruner.js';
export { ThresholdPruner } from './tune/pruners/threshold-pruner.js';
export { PatientPruner } from './tune/pruners/patient-pruner.js';
export type { StudyStorage, StudyRecord, NewTrial } from './tune/storages/storage.js';
export { InMemoryStorage } from './tune/storages/in-memory-storage.js';
export { SqliteStorage } from './tune/storages/sqlite-storage.js';
export { PostgresStorage } from './tune/storages/postgres-storage.js';
export { openStorage } from './tune/storages/open-storage.js';
export { paramImportances, type ParamImportance } from './tune/param-importance.js';
export { bestTrial } from './tune/trial-state.js';

export { pruneStructured, STRUCTURED_CRITERIA, type StructuredCriterion, type StructuredPruningOptions, type StructuredPruningResult, type GroupChange } from './prune/structured-pruning.js';
export { traceChannels, ChannelGroup, type ChannelGraph, type Layout, type WeightSlice } from './prune/channel-graph.js';
export { weightScores, type WeightCriterion } from './prune/channel-importance.js';
export { activationScores, type ActivationCriterion, type ActivationStatisticsOptions } from './prune/activation-statistics.js';
export { selectChannels, type ChannelSelectionOptions } from './prune/channel-selection.js';
export { shrinkModel, maskModel, cloneModel, type KeptChannels } from './prune/shrink-model.js';
export { prunableKernels, type PrunableKernel } from './prune/prunable-kernels.js';
export { magnitudeMasks, type MaskOptions, type NmPattern, type PruningScope } from './prune/magnitude-masks.js';
export { MagnitudePruning, applyMagnitudePruning, type MagnitudePruningOptions } from './prune/magnitude-pruning-callback.js';
export { ConstantSparsity, PolynomialDecaySparsity, type SparsitySchedule } from './prune/sparsity-schedule.js';
export { weightSparsity, type WeightSparsity, type LayerSparsity } from './prune/sparsity-report.js';
export { countModel, measureThroughput, modelFileSizes, type ModelCounts, type FileSizes, type ThroughputOptions } from './prune/model-measurements.js';
export { saveSparseModel, loadSparseModel, encodeSparseWeights, decodeSparseWeights, SPARSE_WEIGHTS_BIN, type SparseModelSizes } from './io/sparse-weights.js';
export { runPruning, PRUNE_METHODS, type PruneMethod, type PruningSettings, type PruningRunOptions, type PruningRunResult, type StepRecord, type Measurement } from './runner/run-pruning.js';

export { buildReport, readStudy, type ReportInputs } from './report/build-report.js';
export { renderHtml } from './report/html-page.js';
export { vegaBundles } from './report/vega-bundles.js';
export { writeChartImages, chartSvg, svgToPng } from './report/png-export.js';
export { readRuns, readRun, type RunRecord, type MetricsLine } from './report/run-files.js';
export type { Report, ReportSection, ReportChart, ReportTable } from './report/report-model.js';
