import { Command, Option } from '@commander-js/extra-typings';
import { availableParallelism, hostname } from 'node:os';
import { initBackend } from '../backend/backend.js';
import { mergeSettings, readConfigFile } from '../config/load-config.js';
import { DloptError, UsageError } from '../errors.js';
import { gridSize, toDistribution } from '../tune-cli/build-tune.js';
import { parseTuneConfig, type TuneConfig } from '../tune-cli/tune-config.js';
import { TuneInterrupted, tuneObjective, type TrialEvents } from '../tune-cli/tune-objective.js';
import { failTrialsOfDeadWorkers, isDeadLocalWorker, openTuneStudy, runTrials, workerOf } from '../tune-cli/tune-study.js';
import { WorkerPool } from '../tune-cli/worker-pool.js';
import { describeDistribution } from '../tune/distribution-utils.js';
import type { Study } from '../tune/study.js';
import { bestTrial, countStates, type FrozenTrial } from '../tune/trial-state.js';
import { formatDuration, formatParam } from '../util/format.js';
import { errStyle, out, shellQuote, style } from './console.js';
import { openDataset } from './open-dataset.js';
import { positiveInt, positiveNumber } from './options.js';
import { startProgress, type Progress } from './progress-bar.js';
import { formatMetric, formatStudyReport, openStudyStorage, shortNames, studyReport } from './study-command.js';

/** How often a worker says it is alive (in practice: at most this often, and after each epoch). */
const HEARTBEAT_MS = 10_000;

interface TuneFlags {
  config: string;
  storage?: string;
  study?: string;
  trials?: number;
  workers?: number;
  timeout?: number;
  data?: string;
  worker?: true;
}

export function tuneCommand() {
  return new Command('tune')
    .description('tune training hyperparameters: run the trials of a study (search space, sampler, pruner from the config)')
    .requiredOption('--config <file>', 'tune configuration (YAML or JSON): study, sampler, pruner, base training config, search space')
    .option('--storage <url>', 'where the study lives: memory (default; this process only), sqlite:PATH, postgresql://user@host/db')
    .option('--study <name>', "study name (default: the config's, else the config file's name)")
    .option('--trials <n>', 'trials the study should have in total, all workers together', positiveInt)
    .option('--workers <n>', 'worker processes on this machine, this one included (needs a sqlite: or postgresql:// storage)', positiveInt)
    .option('--timeout <seconds>', 'start no new trial after this many seconds', positiveNumber)
    .option('--data <path>', "dataset (overrides the config's train.data)")
    .addOption(new Option('--worker', 'internal: run as a worker process of --workers').hideHelp())
    .addHelpText('after', '\nSee the README (dlopt tune) for the config format. The same command on other machines with the same\npostgresql:// storage and study name joins the study.')
    .action(async (opts) => {
      await tune(opts as TuneFlags);
    });
}

/**
 * Ctrl-C and other signals keep their default effect: training holds the
 * event loop for a whole epoch, so a handler would run only then. A trial
 * left RUNNING by a killed process is failed the next time the study runs on
 * this machine (its process is gone), or by other workers once its heartbeat
 * is older than `staleAfter`.
 */
async function tune(flags: TuneFlags): Promise<void> {
  const isWorker = flags.worker === true;
  const file = await readConfigFile(flags.config);
  const config = parseTuneConfig(
    mergeSettings(file, {
      storage: flags.storage,
      study: flags.study,
      trials: flags.trials,
      timeout: flags.timeout,
      ...(flags.data !== undefined && { train: { data: flags.data } }),
    }),
    flags.config,
  );
  const workers = isWorker ? 1 : (flags.workers ?? 1);
  const memory = config.storage === 'memory' || config.storage === '';
  if (workers > 1 && memory) {
    throw new UsageError(
      `--workers ${workers} needs a storage the worker processes share, and a memory storage lives inside one process: ` +
        'use --storage sqlite:FILE (or postgresql://user@host/db)',
    );
  }
  const grid = config.sampler.name === 'grid' ? gridSize(config.search) : undefined;
  const trials = config.trials ?? grid;
  if (trials === undefined && config.timeout === undefined) {
    throw new UsageError(`${flags.config}: give trials (or --trials N) or timeout (or --timeout SECONDS): the study needs an end`);
  }
  if (!isWorker && grid !== undefined && trials !== undefined && trials > grid) {
    out.warn(`${trials} trials over a grid of ${grid} points: the grid is visited again from its start after ${grid} trials`);
  }
  // N processes each with a thread per core would oversubscribe the CPU: share the cores.
  if (workers > 1 && process.env.DLOPT_NUM_THREADS === undefined) {
    process.env.DLOPT_NUM_THREADS = String(Math.max(1, Math.floor(availableParallelism() / workers)));
  }

  const storage = await openStudyStorage(config.storage, { purpose: 'tune' });
  let interruption: string | undefined;
  let pool: WorkerPool | undefined;
  // A worker stops when the process that started it has gone (checked between batches, without the event loop).
  const parentPid = process.ppid;
  const interrupted = () =>
    interruption ?? (isWorker && process.ppid !== parentPid ? 'stopped: the dlopt tune process that started this worker has exited' : undefined);
  try {
    const study = await openTuneStudy(config, storage);
    if (!memory && !isWorker) {
      const abandoned = await failTrialsOfDeadWorkers(storage, study.id, isDeadLocalWorker, (w) => `its worker (pid ${w.pid}) was killed`);
      if (abandoned.length > 0) out.info(`Trial${abandoned.length === 1 ? '' : 's'} ${abandoned.join(', ')}, left RUNNING by a killed process, now FAIL`);
      await study.getTrials();
    }
    if (!isWorker) describeStudy(config, study, trials, workers);
    if (workers > 1) {
      const args = workerArgs(flags, config, trials);
      pool = new WorkerPool({
        count: workers - 1,
        args: () => [...process.execArgv, process.argv[1]!, ...args],
        onFailure(message) {
          out.warn(`${message}: stopping this study's other workers`);
          interruption ??= `stopped: ${message}`;
          pool?.stop('SIGTERM');
        },
      });
    }

    const backend = await initBackend(config.train.backend);
    if (!isWorker) out.info(`Backend: ${backend.description}`);
    if (!isWorker && backend.name === 'cpu') out.warn("the 'cpu' backend is tfjs's pure-JavaScript one and trains very slowly; use a small train.limit");
    const dataset = await openDataset({ data: config.train.data, imageSize: config.train.imageSize, cifar: { test: 'skip' } });

    const progress = new TrialProgress(config, workers === 1 && !isWorker);
    // Fault injection for the tests: a worker process killed hard after an epoch.
    const crashAfter = isWorker ? Number(process.env.DLOPT_TUNE_CRASH_WORKER_AFTER_EPOCH) : Number.NaN;
    const events: TrialEvents = {
      onEpochStart: (trial, epoch, epochs, batches) => progress.onEpochStart(trial, epoch, epochs, batches),
      onBatchEnd: (trial, batch, stats) => progress.onBatchEnd(trial, batch, stats),
      onEpochEnd(trial, metrics, value) {
        progress.onEpochEnd(trial, metrics, value);
        if (metrics.epoch === crashAfter) process.kill(process.pid, 'SIGKILL');
      },
    };
    const objective = tuneObjective({ config, dataset, backend: backend.name, events, interruption: interrupted });
    try {
      await runTrials({
        study,
        objective,
        trials,
        timeout: config.timeout,
        ...(!memory && { heartbeatMs: Math.min(HEARTBEAT_MS, (config.staleAfter * 1000) / 3), graceMs: config.staleAfter * 1000 }),
        onTrialEnd: (s, trial) => progress.trialEnded(s, trial),
        stopped: () => interrupted() !== undefined,
      });
    } catch (error) {
      if (!(error instanceof TuneInterrupted)) throw error;
      // optimize recorded the trial FAIL and rethrew without calling back: say so here.
      const last = (await study.getTrials()).findLast((t) => workerOf(t)?.pid === process.pid && t.state === 'FAIL');
      if (last) progress.trialEnded(study, last);
    } finally {
      progress.stop();
    }

    if (pool) {
      if (interruption === undefined) out.info('Waiting for the other workers to finish their trials…');
      await pool.wait();
    }
    if (pool?.failure !== undefined) {
      const pids = new Set(pool.pids);
      await failTrialsOfDeadWorkers(storage, study.id, (w) => w.host === hostname() && pids.has(w.pid), () => interruption!);
      const above = pool.failure.includes('exited with code') ? ' (its error is above)' : '';
      throw new DloptError(`${pool.failure}${above}; the study's other workers were stopped`);
    }
    const stopped = interrupted();
    if (stopped !== undefined) throw new DloptError(stopped);
    if (!isWorker) await summarize(config, study);
  } finally {
    pool?.stop('SIGTERM');
    await storage.close();
  }
}

/** The command each extra worker runs: this one, with everything resolved, as one worker. */
function workerArgs(flags: TuneFlags, config: TuneConfig, trials: number | undefined): string[] {
  return [
    'tune',
    '--config',
    flags.config,
    '--storage',
    config.storage,
    '--study',
    config.study,
    ...(trials !== undefined ? ['--trials', String(trials)] : []),
    ...(config.timeout !== undefined ? ['--timeout', String(config.timeout)] : []),
    ...(flags.data !== undefined ? ['--data', flags.data] : []),
    '--workers',
    '1',
    '--worker',
  ];
}

function describeStudy(config: TuneConfig, study: Study, trials: number | undefined, workers: number): void {
  const done = study.trials.filter((t) => t.state !== 'WAITING').length;
  const seed = study.sampler.seed;
  out.info(
    `Study '${study.name}' (${config.storage}): ${study.direction} ${config.metric}` +
      `${trials !== undefined ? `, ${trials} trials` : ''}${config.timeout !== undefined ? `, timeout ${formatDuration(config.timeout)}` : ''}` +
      `${workers > 1 ? `, ${workers} workers` : ''}; sampler ${study.sampler.name} (seed ${seed}), pruner ${config.pruner.name}` +
      (done > 0 ? `; continuing after ${done} trial${done === 1 ? '' : 's'} (${countStates(study.trials)})` : ''),
  );
  for (const [path, d] of Object.entries(config.search)) out.info(`  ${path}: ${describeDistribution(toDistribution(d))}`);
}

/** Progress lines: each finished trial, and the running trial's epochs (with a bar when one worker runs on a terminal). */
class TrialProgress {
  private bar: Progress | undefined;
  /** Epochs of the running trial (a searched setting, maybe). */
  private epochs = 0;
  private readonly short: Map<string, string>;

  constructor(
    private readonly config: TuneConfig,
    private readonly showBar: boolean,
  ) {
    this.short = shortNames(Object.keys(config.search));
  }

  onEpochStart(trial: { number: number }, epoch: number, epochs: number, batches: number): void {
    this.epochs = epochs;
    if (!this.showBar) return;
    this.bar = startProgress(`trial ${trial.number} epoch ${epoch}/${epochs}`, batches, {
      unit: 'batches',
      format: (done, f) => `${done}/${batches} batches | loss ${f.loss ?? '?'} | acc ${f.acc ?? '?'}`,
    });
  }

  onBatchEnd(_trial: { number: number }, batch: number, stats: { loss: number; accuracy: number }): void {
    this.bar?.update(batch, { loss: stats.loss.toFixed(4), acc: stats.accuracy.toFixed(4) });
  }

  onEpochEnd(trial: { number: number }, m: { epoch: number; seconds: number }, value: number): void {
    this.stop();
    out.info(`trial ${trial.number} epoch ${m.epoch}/${this.epochs} ${this.config.metric} ${formatMetric(value)} (${formatDuration(m.seconds)})`);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  trialEnded(study: Study, trial: FrozenTrial): void {
    this.stop();
    const best = bestTrial(study.trials, study.direction);
    const bestText = best ? `(best ${formatMetric(best.value!)} #${best.number})` : '(no complete trial yet)';
    const params = Object.entries(trial.params).map(([k, v]) => `${this.short.get(k) ?? k}=${formatParam(v)}`);
    const seconds = trial.startedAt !== null && trial.completedAt !== null ? (trial.completedAt - trial.startedAt) / 1000 : Number.NaN;
    const time = formatDuration(seconds);
    const metric = this.config.metric;
    let line: string;
    if (trial.state === 'COMPLETE') {
      line = `trial ${trial.number} ${errStyle.green('COMPLETE')} ${metric} ${formatMetric(trial.value!)} ${bestText} ${params.join(' ')} ${time}`;
    } else if (trial.state === 'PRUNED') {
      const epochs = trial.userAttrs.epochs;
      const value = trial.value === null ? '' : ` ${metric} ${formatMetric(trial.value)}`;
      line = `trial ${trial.number} ${errStyle.yellow('PRUNED')} at epoch ${String(epochs)}${value} ${bestText} ${params.join(' ')} ${time}`;
    } else {
      const reason = typeof trial.systemAttrs.failReason === 'string' ? trial.systemAttrs.failReason : 'failed';
      line = `trial ${trial.number} ${errStyle.red('FAIL')} ${params.join(' ')} ${time}: ${reason}`;
    }
    out.info(line.replace(/ {2,}/g, ' '));
  }
}

/** The end of a run: the best trial and how to see the study again (or, from memory, the whole table now). */
async function summarize(config: TuneConfig, study: Study): Promise<void> {
  const report = await studyReport(study.storage, study.name);
  out.result('');
  if (config.storage === 'memory') {
    for (const line of formatStudyReport(report)) out.result(line);
    out.result('');
    out.result('The study was kept in memory and ends with this command; run with --storage sqlite:FILE to keep it for dlopt study show.');
  } else {
    const best = report.bestTrial;
    out.result(`Study '${report.study}': ${report.trials.length} trials (${countStates(report.trials)})`);
    if (best) {
      out.result(style.bold(`Best trial: #${best.number}, ${config.metric} ${formatMetric(best.value!)}`));
      for (const [name, value] of Object.entries(best.params)) out.result(`  ${name}: ${formatParam(value)}`);
    }
    out.result(`All trials: dlopt study show --storage ${shellQuote(config.storage)} --study ${shellQuote(report.study)}`);
    out.result(`Report: dlopt report --storage ${shellQuote(config.storage)} --study ${shellQuote(report.study)} --out ${shellQuote(`${report.study}-report.html`)}`);
  }
  if (!report.bestTrial) {
    const failed = report.trials.filter((t) => t.failReason !== undefined);
    const reason = failed.at(-1)?.failReason;
    throw new DloptError(`no trial completed (${countStates(report.trials)})${reason ? `; last failure: ${reason}` : ''}`);
  }
}
