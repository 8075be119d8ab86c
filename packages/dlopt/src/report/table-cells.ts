/** Table cells and the number formats the report's tables share. */

export function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : `${(x * 100).toFixed(2)}%`;
}

export function fixed(x: number | null | undefined, digits: number): string {
  return x === null || x === undefined ? '—' : x.toFixed(digits);
}

export function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

export function str(x: unknown): string | null {
  return typeof x === 'string' ? x : null;
}

export function text(t: string): { text: string; sort: string } {
  return { text: t, sort: t };
}

export function numCell(n: number | null, t: string): { text: string; sort: number | null } {
  return { text: t, sort: n };
}
