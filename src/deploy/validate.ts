/** Stage 6: the device's outputs against the reference interpreter's, element by element. Pure. */
import type { TensorData } from '../ir/types.js';

export interface TensorComparison {
  compared: number;
  mismatches: number;
  maxAbsDiff: number;
}

export function compareTensors(device: TensorData, reference: TensorData): TensorComparison {
  const length = Math.max(device.length, reference.length);
  let mismatches = Math.abs(device.length - reference.length);
  let maxAbsDiff = 0;
  for (let i = 0; i < Math.min(device.length, reference.length); i++) {
    const a = Number(device[i]);
    const b = Number(reference[i]);
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
    mismatches++;
    const diff = Math.abs(a - b);
    maxAbsDiff = Math.max(maxAbsDiff, Number.isFinite(diff) ? diff : Number.MAX_VALUE);
  }
  return { compared: length, mismatches, maxAbsDiff };
}

export function compareAll(device: readonly TensorData[], reference: readonly TensorData[]): TensorComparison {
  return device
    .map((d, i) => compareTensors(d, reference[i]!))
    .reduce((sum, c) => ({ compared: sum.compared + c.compared, mismatches: sum.mismatches + c.mismatches, maxAbsDiff: Math.max(sum.maxAbsDiff, c.maxAbsDiff) }), {
      compared: 0,
      mismatches: 0,
      maxAbsDiff: 0,
    });
}
