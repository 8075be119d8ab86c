import type { EpochMetrics, FitObserver } from '../train/fit.js';
import { formatDuration, formatInt, formatRate } from '../util/format.js';
import { out } from './console.js';
import { startProgress, type Progress } from './progress-bar.js';

/**
 * The progress a training loop shows: a bar per epoch (batches, ETA,
 * images/s, running loss and accuracy, then validation progress) and one
 * line of metrics when the epoch ends. `label` names the epoch
 * (`Epoch 3/10`); `onEpochEnd` runs after the line is printed.
 */
export function epochProgress(options: {
  batchSize: number;
  label: (epoch: number, epochs: number) => string;
  onEpochEnd?: (m: EpochMetrics) => void;
}): FitObserver {
  let bar: Progress | undefined;
  let fields: Record<string, string> = {};
  let batchesPerEpoch = 0;
  let total = 0;
  return {
    onEpochStart(epoch, epochs, batches) {
      fields = {};
      batchesPerEpoch = batches;
      total = epochs;
      bar = startProgress(options.label(epoch, epochs), batches, {
        unit: 'batches',
        format: (done, f) => {
          const rate = Number(f.rate);
          const eta = ((batches - done) * options.batchSize) / rate;
          const stage = f.validating ? `validating ${f.validating}` : `ETA ${formatDuration(eta)}`;
          return `${done}/${batches} | ${stage} | ${formatRate(rate)} img/s | loss ${f.loss} | acc ${f.acc}`;
        },
      });
    },
    onBatchEnd(batch, stats) {
      fields = { rate: String(stats.imagesPerS), loss: stats.loss.toFixed(4), acc: stats.accuracy.toFixed(4) };
      bar?.update(batch, fields);
    },
    onValidationProgress(done, totalImages) {
      bar?.update(batchesPerEpoch, { ...fields, validating: `${formatInt(done)}/${formatInt(totalImages)}` });
    },
    onEpochEnd(m) {
      bar?.stop();
      const val = m.val_loss === null ? '' : ` - val_loss: ${m.val_loss.toFixed(4)} - val_accuracy: ${m.val_accuracy!.toFixed(4)}`;
      const lr = m.lr === null ? '' : ` - lr: ${m.lr.toPrecision(3)}`;
      out.info(
        `${options.label(m.epoch, total)} - ${formatDuration(m.seconds)} - ${formatRate(m.images_per_s)} img/s - ` +
          `loss: ${m.loss.toFixed(4)} - accuracy: ${m.accuracy.toFixed(4)}${val}${lr}`,
      );
      options.onEpochEnd?.(m);
    },
  };
}
