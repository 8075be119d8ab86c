import cliProgress from 'cli-progress';
import { formatDuration, formatRate } from '../util/format.js';

export interface Progress {
  update(done: number, fields?: Record<string, string>): void;
  stop(): void;
}

/**
 * A bar on a terminal; on a pipe or CI log (no TTY) a plain line every
 * `lineEverySeconds` instead, so long epochs still show signs of life
 * without flooding logs.
 */
export function startProgress(
  label: string,
  total: number,
  options: { unit: string; lineEverySeconds?: number; format?: (done: number, fields: Record<string, string>) => string },
): Progress {
  const started = performance.now();
  const describe =
    options.format ??
    ((done: number) => {
      const elapsed = (performance.now() - started) / 1000;
      const rate = done / elapsed;
      return `${done}/${total} ${options.unit} | ETA ${formatDuration((total - done) / rate)} | ${formatRate(rate)} ${options.unit}/s`;
    });
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} {bar} {text}`,
        stream: process.stderr,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { text: '' });
    return {
      update: (done, fields = {}) => bar.update(done, { text: describe(done, fields) }),
      stop: () => bar.stop(),
    };
  }
  const every = (options.lineEverySeconds ?? 30) * 1000;
  let last = started;
  return {
    update(done, fields = {}) {
      const now = performance.now();
      if (now - last >= every) {
        last = now;
        process.stderr.write(`${label} ${describe(done, fields)}\n`);
      }
    },
    stop() {},
  };
}
