/** One class's figures from a confusion matrix (rows: true class, columns: predicted). */
export interface ClassMetrics {
  name: string;
  /** Images whose true class this is. */
  images: number;
  /** Share of them predicted right (recall); null when there were none. */
  accuracy: number | null;
  /** Share of the predictions of this class that were right; null when it was never predicted. */
  precision: number | null;
  /** The wrong class its images went to most often, and the share of its images that went there. */
  mistakenFor: { name: string; share: number } | null;
}

/**
 * Per-class accuracy and precision, and each class's most common confusion:
 * what an overall accuracy hides (a model can reach 60% by never predicting
 * two of ten classes).
 */
export function classMetrics(confusion: readonly (readonly number[])[], names: readonly string[]): ClassMetrics[] {
  if (confusion.length !== names.length || confusion.some((row) => row.length !== names.length)) {
    throw new Error(`a confusion matrix for ${names.length} classes must be ${names.length}×${names.length}`);
  }
  return names.map((name, c) => {
    const row = confusion[c]!;
    const images = row.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((n, r) => n + r[c]!, 0);
    let worst = -1;
    for (let k = 0; k < row.length; k++) if (k !== c && row[k]! > 0 && (worst < 0 || row[k]! > row[worst]!)) worst = k;
    return {
      name,
      images,
      accuracy: images > 0 ? row[c]! / images : null,
      precision: predicted > 0 ? row[c]! / predicted : null,
      mistakenFor: worst >= 0 ? { name: names[worst]!, share: row[worst]! / images } : null,
    };
  });
}
