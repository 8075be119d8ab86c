/**
 * Lines of a plain-text table: columns two spaces apart, numeric columns
 * right-aligned so digits line up, trailing spaces trimmed. The header line
 * comes first and is returned separately styled by the caller if it wants.
 */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[], numeric: (column: number) => boolean): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((cells) => cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
}
