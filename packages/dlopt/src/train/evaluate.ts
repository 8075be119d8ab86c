import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { batchRanges, makeBatch } from '../data/batches.js';
import type { ImageSet } from '../data/image-set.js';

export interface Evaluation {
  /** Images evaluated. */
  n: number;
  /** Mean categorical cross-entropy. */
  loss: number;
  accuracy: number;
  /** Wall time of the evaluation loop (batch preparation + inference). */
  seconds: number;
  imagesPerS: number;
  /**
   * Counts of images by true class (row) and predicted class (column),
   * numClasses × numClasses: where the errors go, which accuracy alone hides.
   */
  confusion: number[][];
}

/**
 * Loss and accuracy of a classifier on a set of images, streamed in batches so
 * the set stays uint8 in memory. The same cross-entropy as the training loss
 * (Keras's, with its 1e-7 clipping).
 */
export async function evaluateModel(
  model: tfl.LayersModel,
  set: ImageSet,
  options: { batchSize: number; numClasses: number; onProgress?: (done: number, total: number) => void },
): Promise<Evaluation> {
  const started = performance.now();
  let lossSum = 0;
  let correct = 0;
  const confusion = Array.from({ length: options.numClasses }, () => new Array<number>(options.numClasses).fill(0));
  const indices = new Uint32Array(options.batchSize);
  for (const [start, end] of batchRanges(set.count, options.batchSize)) {
    for (let i = start; i < end; i++) indices[i - start] = i;
    const { x, y } = makeBatch(set, indices.subarray(0, end - start), options.numClasses);
    const [loss, predicted] = tf.tidy(() => {
      const p = model.predict(x) as tf.Tensor;
      return [tf.sum(tfl.metrics.categoricalCrossentropy(y, p)), tf.argMax(p, -1)];
    });
    lossSum += (await loss.data())[0]!;
    const classes = await predicted.data();
    tf.dispose([x, y, loss, predicted]);
    // Accuracy is the confusion matrix's diagonal: one argMax serves both.
    for (let i = start; i < end; i++) {
      const label = set.labels[i]!;
      const guess = classes[i - start]!;
      confusion[label]![guess]! += 1;
      if (guess === label) correct++;
    }
    options.onProgress?.(end, set.count);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    n: set.count,
    loss: lossSum / set.count,
    accuracy: correct / set.count,
    seconds,
    imagesPerS: set.count / seconds,
    confusion,
  };
}
