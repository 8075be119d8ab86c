import { resolve } from 'node:path';
import { DloptError } from '../errors.js';
import { tuneInfo } from '../tune-cli/tune-study.js';
import type { StudyStorage } from '../tune/storages/storage.js';
import { pruningSection } from './pruning-charts.js';
import { IdSet, type Report } from './report-model.js';
import { readRuns } from './run-files.js';
import { studySection, type StudyData } from './study-charts.js';
import { trainingSection } from './training-charts.js';

export interface ReportInputs {
  /** Run directories (training or pruning), or folders of them. */
  paths: readonly string[];
  study?: { storage: StudyStorage; name: string; url: string };
  now?: Date;
}

/** A report of whatever it is given: a study first, then training runs, then pruning runs. */
export async function buildReport(inputs: ReportInputs): Promise<Report> {
  if (inputs.paths.length === 0 && !inputs.study) throw new DloptError('nothing to report: give run directories, or --study with --storage');
  const ids = new IdSet();
  const sections = [];
  const sources: string[] = [];
  if (inputs.study) {
    const study = await readStudy(inputs.study.storage, inputs.study.name);
    sections.push(studySection(study, ids));
    sources.push(`study '${study.name}' in ${inputs.study.url}`);
  }
  const runs = await readRuns(inputs.paths);
  sources.push(...runs.map((r) => resolve(r.path)));
  const training = runs.filter((r) => r.kind === 'train');
  const pruning = runs.filter((r) => r.kind === 'prune');
  if (training.length > 0) sections.push(trainingSection(training, ids));
  if (pruning.length > 0) sections.push(pruningSection(pruning, ids));
  const title =
    inputs.study && runs.length === 0
      ? `Study ${inputs.study.name}`
      : runs.length === 1 && !inputs.study
        ? `${runs[0]!.kind === 'prune' ? 'Pruning run' : 'Training run'} ${runs[0]!.name}`
        : 'dlopt report';
  return { title, generatedAt: (inputs.now ?? new Date()).toISOString(), sources, sections };
}

/** A study and its trials; an unknown name lists the studies the storage has. */
export async function readStudy(storage: StudyStorage, name: string): Promise<StudyData> {
  const record = await storage.getStudy(name);
  if (!record) {
    const names = (await storage.listStudies()).map((s) => `'${s.name}'`);
    throw new DloptError(`no study named '${name}' in this storage (${names.length ? `it has ${names.join(', ')}` : 'it has none'})`);
  }
  const trials = [...(await storage.getAllTrials(record.id))].sort((a, b) => a.number - b.number);
  return { name: record.name, direction: record.direction, metric: tuneInfo(record.systemAttrs).metric ?? null, trials };
}
