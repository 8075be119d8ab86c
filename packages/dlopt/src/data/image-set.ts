/**
 * Images kept as uint8 NHWC in one buffer (50,000 CIFAR images are 150 MB as
 * bytes, 600 MB as float32); batches are converted to float when used.
 */
export interface ImageSet {
  /** count × height × width × channels bytes, NHWC (tfjs's layout). */
  readonly images: Uint8Array;
  /** One class index per image. */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

export function imageSize(set: Pick<ImageSet, 'height' | 'width' | 'channels'>): number {
  return set.height * set.width * set.channels;
}

/** Images [start, end) as a view; no bytes are copied. */
export function sliceImageSet(set: ImageSet, start: number, end: number): ImageSet {
  const size = imageSize(set);
  return {
    images: set.images.subarray(start * size, end * size),
    labels: set.labels.subarray(start, end),
    count: end - start,
    height: set.height,
    width: set.width,
    channels: set.channels,
  };
}

/** Several sets of the same image shape joined into one (copies). */
export function concatImageSets(sets: readonly ImageSet[]): ImageSet {
  const first = sets[0];
  if (!first) throw new Error('concatImageSets needs at least one set');
  for (const s of sets) {
    if (s.height !== first.height || s.width !== first.width || s.channels !== first.channels) {
      throw new Error(
        `cannot join image sets of shape ${s.height}×${s.width}×${s.channels} and ${first.height}×${first.width}×${first.channels}`,
      );
    }
  }
  const count = sets.reduce((n, s) => n + s.count, 0);
  const images = new Uint8Array(count * imageSize(first));
  const labels = new Uint8Array(count);
  let at = 0;
  for (const s of sets) {
    images.set(s.images, at * imageSize(first));
    labels.set(s.labels, at);
    at += s.count;
  }
  return { images, labels, count, height: first.height, width: first.width, channels: first.channels };
}

/** The images at `order` (a permutation or subset of indices), copied into a new set. */
export function gatherImageSet(set: ImageSet, order: ArrayLike<number>): ImageSet {
  const size = imageSize(set);
  const images = new Uint8Array(order.length * size);
  const labels = new Uint8Array(order.length);
  for (let i = 0; i < order.length; i++) {
    const j = order[i]!;
    images.set(set.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = set.labels[j]!;
  }
  return { images, labels, count: order.length, height: set.height, width: set.width, channels: set.channels };
}
