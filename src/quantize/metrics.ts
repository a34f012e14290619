/** How far a quantized model's outputs are from the float model's, over a set of samples. */

export interface OutputMetrics {
  /** Mean over samples of the cosine similarity between the float and the quantized output. */
  cosine: number;
  /** The worst sample's cosine similarity. */
  minCosine: number;
  maxAbsError: number;
  meanAbsError: number;
  /**
   * Fraction of rows (the output's last axis, one row per sample for [1, classes]) whose largest element is at the
   * same index; null for outputs whose last axis has one element.
   */
  top1Agreement: number | null;
  /** Rows compared for top-1 (samples x rows per sample). */
  rows: number;
}

/** `expected[s]` / `actual[s]`: the output of sample s, row-major, last axis of length `lastAxis`. */
export function compareOutputs(expected: readonly ArrayLike<number>[], actual: readonly ArrayLike<number>[], lastAxis: number): OutputMetrics {
  let cosineSum = 0;
  let minCosine = Infinity;
  let maxAbsError = 0;
  let absErrorSum = 0;
  let count = 0;
  let agreeing = 0;
  let rows = 0;
  expected.forEach((reference, s) => {
    const candidate = actual[s]!;
    if (candidate.length !== reference.length) throw new Error(`internal: sample ${s} has ${candidate.length} values, expected ${reference.length}`);
    const similarity = cosineSimilarity(reference, candidate);
    cosineSum += similarity;
    minCosine = Math.min(minCosine, similarity);
    for (let i = 0; i < reference.length; i++) {
      const error = Math.abs(reference[i]! - candidate[i]!);
      maxAbsError = Math.max(maxAbsError, error);
      absErrorSum += error;
      count++;
    }
    if (lastAxis > 1) {
      for (let start = 0; start + lastAxis <= reference.length; start += lastAxis) {
        if (argmax(reference, start, lastAxis) === argmax(candidate, start, lastAxis)) agreeing++;
        rows++;
      }
    }
  });
  return {
    cosine: expected.length > 0 ? cosineSum / expected.length : 1,
    minCosine: expected.length > 0 ? minCosine : 1,
    maxAbsError,
    meanAbsError: count > 0 ? absErrorSum / count : 0,
    top1Agreement: rows > 0 ? agreeing / rows : null,
    rows,
  };
}

/** Two all-zero vectors are the same (1); a zero vector against a non-zero one shares nothing (0). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  if (normA === 0 && normB === 0) return 1;
  if (normA === 0 || normB === 0) return 0;
  return dot / Math.sqrt(normA * normB);
}

/** Index (within the row) of the first largest element of values[start .. start + length). */
export function argmax(values: ArrayLike<number>, start: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[start + i]! > values[start + best]!) best = i;
  return best;
}
