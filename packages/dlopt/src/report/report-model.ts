import type { TopLevelSpec } from 'vega-lite';

/**
 * What a report shows, before it is turned into HTML or images: the page and
 * `--png` render the same charts from the same specs.
 */
export interface Report {
  title: string;
  /** ISO time the report was made. */
  generatedAt: string;
  /** The run directories and study it was made from. */
  sources: string[];
  sections: ReportSection[];
}

export interface ReportSection {
  /** Unique in the report; prefixes its charts' ids (and PNG file names). */
  id: string;
  title: string;
  /** Key facts shown first (the best trial's parameters, the pruned model's gains). */
  highlights?: { title: string; items: { label: string; value: string }[] };
  /** Why something is not drawn (an empty study, a one-epoch run), shown instead of empty axes. */
  notes: string[];
  charts: ReportChart[];
  tables: ReportTable[];
}

export interface ReportChart {
  /** Unique in the report: `<section>-<name>`, safe as a file name. */
  id: string;
  title: string;
  /** One sentence on how to read it. */
  caption?: string;
  spec: TopLevelSpec;
}

export interface ReportTable {
  id: string;
  caption: string;
  columns: { label: string; numeric: boolean }[];
  /** `sort` orders the column (a number for numeric columns, null sorts last); `text` is shown. */
  rows: { cells: { text: string; sort: number | string | null }[]; className?: string }[];
  /** Whether clicking a header sorts the rows (tables of many like rows, such as trials). */
  sortable: boolean;
}

/** Chart and section ids become element ids and file names: keep them to [a-z0-9-]. */
export function slug(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s || 'x';
}

/** Ids made unique by numbering repeats (two runs both named "seed-cnn"). */
export class IdSet {
  private readonly used = new Set<string>();
  take(base: string): string {
    let id = slug(base);
    for (let i = 2; this.used.has(id); i++) id = `${slug(base)}-${i}`;
    this.used.add(id);
    return id;
  }
}
