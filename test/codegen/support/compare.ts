/** Bit-for-bit comparison of generated code's outputs with the reference interpreter's, for the kernel tests. */
import type { TensorData } from '../../../src/ir/types.js';

/** The first element where `actual` (from C, on the host or the emulated device) and the reference differ, or null. */
export function firstDifference(actual: TensorData, expected: TensorData, engine = 'device'): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(a === e || (Number.isNaN(a) && Number.isNaN(e)))) return `element ${i}: ${engine} ${a}, reference ${e}`;
  }
  return null;
}

/** One line per layer of a merged batch whose output differs: its seed, what it is, where it differs. */
export function differingLayers(
  entries: readonly { seed: number; layer: { describe: string } }[],
  outputs: readonly TensorData[],
  expected: readonly TensorData[],
): string[] {
  return entries.flatMap((entry, i) => {
    const difference = firstDifference(outputs[i]!, expected[i]!);
    return difference ? [`seed ${entry.seed} (${entry.layer.describe}): ${difference}`] : [];
  });
}
