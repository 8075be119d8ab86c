import type { ImageSet } from './image-set.js';

/** Where a split came from, so every reported number can say which data it used. */
export interface SplitInfo {
  /** e.g. "test_batch.bin (10,000 images)" */
  readonly description: string;
}

/** A labelled image dataset as read from disk: a training split and, when the source has one, a test split. */
export interface Dataset {
  /** Format of the source: "cifar10" or "image-folder". */
  readonly format: 'cifar10' | 'image-folder';
  /** The directory or archive read. */
  readonly source: string;
  readonly classNames: readonly string[];
  readonly train?: ImageSet;
  readonly test?: ImageSet;
  /** Human-readable origin of each split present. */
  readonly trainInfo?: SplitInfo;
  readonly testInfo?: SplitInfo;
  /**
   * True when the source order is not already random (image folders list
   * images class by class), so a validation split must be drawn at random
   * rather than taken from the end.
   */
  readonly orderedByClass: boolean;
}

export type SplitName = 'train' | 'val' | 'test';
