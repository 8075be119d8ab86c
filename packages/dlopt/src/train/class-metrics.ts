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

/** One class's accuracy in two models measured on the same images (a pruned model against its original). */
export interface ClassAccuracyChange {
  name: string;
  images: number;
  before: number | null;
  after: number | null;
  /** after − before; null when the class has no images. */
  change: number | null;
}

/**
 * Per-class accuracy before and after, in class order. Pruning can cost a
 * few classes far more than the average (Hooker et al., "What do compressed
 * deep neural networks forget?"), which the overall figure hides.
 */
export function classAccuracyChanges(
  before: readonly (readonly number[])[],
  after: readonly (readonly number[])[],
  names: readonly string[],
): ClassAccuracyChange[] {
  const a = classMetrics(before, names);
  const b = classMetrics(after, names);
  return a.map((c, i) => {
    if (c.images !== b[i]!.images) throw new Error(`class '${c.name}' has ${c.images} images before and ${b[i]!.images} after: not the same images`);
    const change = c.accuracy === null || b[i]!.accuracy === null ? null : b[i]!.accuracy! - c.accuracy;
    return { name: c.name, images: c.images, before: c.accuracy, after: b[i]!.accuracy, change };
  });
}
