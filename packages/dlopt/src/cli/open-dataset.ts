import type { Cifar10LoadOptions } from '../data/cifar10.js';
import type { Dataset } from '../data/dataset.js';
import { loadDataset } from '../data/load-dataset.js';
import { locateData } from '../data/locate.js';
import { formatInt } from '../util/format.js';
import { out } from './console.js';
import { startProgress, type Progress } from './progress-bar.js';

/** Finds (or downloads) and reads the dataset, telling the user what it does. */
export async function openDataset(options: {
  data?: string | undefined;
  imageSize?: number | undefined;
  cifar?: Cifar10LoadOptions;
}): Promise<Dataset> {
  let bar: Progress | undefined;
  const path = await locateData({
    data: options.data,
    onDownloadStart(url, dest) {
      out.info(`No dataset given (--data) and none cached: downloading CIFAR-10\n  from ${url}\n  to   ${dest}`);
    },
    onDownloadProgress(received, total) {
      const mb = (n: number) => (n / 1e6).toFixed(1);
      bar ??= startProgress('Download', total ?? 0, {
        unit: 'B',
        format: (done) => `${mb(done)}/${total === undefined ? '?' : mb(total)} MB`,
      });
      bar.update(received);
    },
  }).finally(() => bar?.stop());
  const started = performance.now();
  const dataset = await loadDataset(path, {
    ...(options.cifar && { cifar: options.cifar }),
    ...(options.imageSize !== undefined && { imageSize: options.imageSize }),
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const parts = [
    dataset.train && `train ${formatInt(dataset.train.count)}`,
    dataset.test && `test ${formatInt(dataset.test.count)}`,
  ].filter(Boolean);
  const shape = dataset.train ?? dataset.test;
  out.info(
    `Data: ${path} (${dataset.format}; ${parts.join(', ')} images` +
      (shape ? ` of ${shape.height}×${shape.width}×${shape.channels}` : '') +
      `; ${dataset.classNames.length} classes; read in ${seconds}s)`,
  );
  return dataset;
}
