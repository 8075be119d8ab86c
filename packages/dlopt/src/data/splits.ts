import { DataError } from '../errors.js';
import { formatInt } from '../util/format.js';
import { Random } from '../util/random.js';
import type { Dataset, SplitName } from './dataset.js';
import { gatherImageSet, sliceImageSet, type ImageSet } from './image-set.js';

export interface SplitOptions {
  /** Images held out from the end of the training data for validation (0 for none). */
  valSize: number;
  /** Train on only the first N remaining training images. */
  limit?: number | undefined;
}

export interface Splits {
  readonly train: ImageSet;
  readonly val?: ImageSet;
  readonly test?: ImageSet;
  /** Where each present split's images come from, in words. */
  readonly describe: Partial<Record<SplitName, string>>;
}

/**
 * Seed of the fixed shuffle applied to class-ordered sources before holding
 * out validation images. It is a constant, not --seed, so that the validation
 * split stays the same across runs that differ only in their training seed.
 */
const SPLIT_SHUFFLE_SEED = 0x5eed;

/**
 * Carves the validation split out of the training data: the last `valSize`
 * images (CIFAR-10's training order is already random), or a fixed random
 * subset for sources stored class by class.
 */
export function makeSplits(dataset: Dataset, options: SplitOptions): Splits {
  const { valSize, limit } = options;
  const source = dataset.train;
  if (!source) throw new DataError(`${dataset.source} has no training split`);
  if (!Number.isInteger(valSize) || valSize < 0) throw new DataError(`validation size must be ≥ 0, got ${valSize}`);
  if (valSize >= source.count) {
    throw new DataError(
      `--val-size ${valSize} leaves no training images: the training data has ${formatInt(source.count)} images`,
    );
  }
  const pool = dataset.orderedByClass
    ? gatherImageSet(source, new Random(SPLIT_SHUFFLE_SEED).permutation(source.count))
    : source;
  const trainEnd = pool.count - valSize;
  const order = dataset.orderedByClass ? ' (after a fixed shuffle)' : '';
  let train = sliceImageSet(pool, 0, trainEnd);
  let trainText = `first ${formatInt(trainEnd)} of ${formatInt(pool.count)} training images${order}`;
  if (limit !== undefined) {
    if (!Number.isInteger(limit) || limit < 1) throw new DataError(`--limit must be a positive integer, got ${limit}`);
    if (limit < trainEnd) {
      train = sliceImageSet(pool, 0, limit);
      trainText = `first ${formatInt(limit)} training images (--limit)${order}`;
    }
  }
  const describe: Partial<Record<SplitName, string>> = { train: trainText };
  let val: ImageSet | undefined;
  if (valSize > 0) {
    val = sliceImageSet(pool, trainEnd, pool.count);
    describe.val = `last ${formatInt(valSize)} training images${order}, held out from training`;
  }
  if (dataset.test) describe.test = dataset.testInfo?.description ?? `${formatInt(dataset.test.count)} images`;
  return { train, ...(val && { val }), ...(dataset.test && { test: dataset.test }), describe };
}
