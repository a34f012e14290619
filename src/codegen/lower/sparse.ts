/**
 * Unstructured sparsity: a Conv2D or FullyConnected whose int8 weights are mostly zero stores only the non-zero ones
 * and a kernel that skips the rest, so both the flash and the multiply-accumulates shrink.
 *
 * Format 'sparse-delta8' (per output channel, channel after channel, in the dense kernel's reduction order):
 *   counts[c]   uint8 (uint16 when a channel has more than 255)  entries of channel c
 *   deltas[e]   uint8   distance from the previous entry's tap (from the start of the row for the first)
 *   values[e]   int8    the weight
 * The kernel walks a pointer through the input row (the im2col column or the input pixel): x += delta; acc += *x * w.
 * Two bytes per non-zero weight and no decoding: the inner loop is two byte loads, a pointer add, a load and a MAC.
 * A gap longer than 255 taps is bridged by an entry of weight zero (its product adds nothing) — rare at the
 * sparsities where the format is chosen, and it keeps the loop free of escape codes. A bitmap with packed values would
 * be smaller at moderate sparsity (1/8 byte per weight + 1 per non-zero) but needs a bit scan per weight in portable
 * C, which is slower than the dense loop it replaces.
 *
 * The choice, per layer: sparse when at least SPARSE_MIN_ZEROS of the weights are zero (what a sparse loop needs to
 * beat the dense one: an entry costs about twice a dense MAC) and the encoded bytes (entries, counts) are at most
 * SPARSE_MAX_BYTES of the dense weights. "Zero" means equal to the channel's weight zero point: then the product
 * (w - Z_w) * (x - Z_in) is 0 for every input, so skipping it leaves every accumulator — and every output — exactly
 * as the dense kernel computes it.
 */
import type { ConstantArray, KernelCall, Lowering, WeightStorage } from '../kernel-call.js';
import { isKernelCall } from '../kernel-call.js';

export const SPARSE_MIN_ZEROS = 0.5;
export const SPARSE_MAX_BYTES = 0.75;

const MAX_DELTA = 255;
const MAX_COUNT = 65535;

/** Dense lowerings whose weights may be stored sparse (their rows are the reduction in the order the sparse kernel walks). */
const DENSE_TEMPLATES = new Set(['te_conv2d_s8', 'te_conv2d_1d_s8', 'te_conv2d_1x1_s8', 'te_fully_connected_s8']);

export interface SparseEncoding {
  counts: Uint16Array;
  deltas: Uint8Array;
  values: Int8Array;
  /** Weights equal to their zero point, of all. */
  zeros: number;
  elements: number;
}

/**
 * Rows of `rowLength` weights, one per output channel; weight zero point of channel c is zeroPoint(c). Null when a
 * channel would need more entries than a count holds.
 */
export function encodeSparse(weights: ArrayLike<number>, rowLength: number, zeroPoint: (channel: number) => number): SparseEncoding | null {
  const channels = weights.length / rowLength;
  const counts = new Uint16Array(channels);
  const deltas: number[] = [];
  const values: number[] = [];
  let zeros = 0;
  for (let c = 0; c < channels; c++) {
    const zero = zeroPoint(c);
    let previous = 0;
    let count = 0;
    for (let k = 0; k < rowLength; k++) {
      const w = weights[c * rowLength + k]!;
      if (w === zero) {
        zeros++;
        continue;
      }
      while (k - previous > MAX_DELTA) {
        deltas.push(MAX_DELTA);
        values.push(zero);
        previous += MAX_DELTA;
        count++;
      }
      deltas.push(k - previous);
      values.push(w);
      previous = k;
      count++;
    }
    if (count > MAX_COUNT) return null;
    counts[c] = count;
  }
  return { counts, deltas: Uint8Array.from(deltas), values: Int8Array.from(values), zeros, elements: weights.length };
}

/** The C type of the counts: uint8_t when no channel has more than 255 entries (most pointwise layers), else uint16_t. */
export function sparseCountType(encoding: SparseEncoding): 'uint8_t' | 'uint16_t' {
  return encoding.counts.every((n) => n <= 255) ? 'uint8_t' : 'uint16_t';
}

/** Bytes of the encoded weights with counts of `countBytes` bytes each. */
export function encodedBytes(encoding: SparseEncoding, countBytes: 1 | 2 = 2): number {
  return encoding.counts.length * countBytes + encoding.deltas.length + encoding.values.length;
}

/**
 * The lowering with its weights stored sparse when that pays (see the header), else unchanged but for the report of
 * its dense weights.
 */
export function sparsifyWeights(lowering: Lowering): Lowering {
  if (!isKernelCall(lowering) || !DENSE_TEMPLATES.has(lowering.template)) return lowering;
  const weights = lowering.constants.find((c) => c.role === 'weights');
  if (!weights) return lowering;
  const p = lowering.params;
  const fullyConnected = lowering.template === 'te_fully_connected_s8';
  const channels = Number(p['outC']);
  const rowLength = weights.values.length / channels;
  const offsets = lowering.constants.find((c) => c.role === 'weightOffsets');
  // The kernels add the weight offset (-Z_w); a folded bias means symmetric weights (Z_w = 0).
  const zeroPoint = (c: number) => (p['foldedBias'] ? 0 : -(offsets ? offsets.values[c]! : Number(p['weightOffset'])));
  const denseBytes = weights.values.length;
  const encoding = encodeSparse(weights.values, rowLength, zeroPoint);
  const countType = encoding ? sparseCountType(encoding) : 'uint16_t';
  const bytes = encoding ? encodedBytes(encoding, countType === 'uint8_t' ? 1 : 2) : denseBytes;
  const dense: WeightStorage = { format: 'dense', bytes: denseBytes, denseBytes, sparsity: encoding ? encoding.zeros / encoding.elements : 0 };
  if (!encoding || encoding.zeros / encoding.elements < SPARSE_MIN_ZEROS || bytes > SPARSE_MAX_BYTES * denseBytes) {
    return { ...lowering, weights: dense };
  }
  const sparseConstants: ConstantArray[] = [
    {
      role: 'counts',
      ctype: countType,
      values: encoding.counts,
      describe: `entries per output channel (${encoding.values.length} entries for ${denseBytes} weights)`,
    },
    { role: 'deltas', ctype: 'uint8_t', values: encoding.deltas, describe: 'taps from the previous entry (sparse-delta8)' },
    { role: 'values', ctype: 'int8_t', values: encoding.values, describe: 'the non-zero weights, channel after channel' },
  ];
  const pointwise = lowering.template === 'te_conv2d_1x1_s8' || fullyConnected;
  const shape = fullyConnected
    ? { pixels: p['batches'], inC: p['depth'], outC: p['outC'] }
    : pointwise
      ? { pixels: Number(p['batches']) * Number(p['inH']) * Number(p['inW']) }
      : {};
  return {
    ...lowering,
    template: 'te_conv2d_sparse_s8',
    name: fullyConnected ? 'te_fully_connected_sparse_s8' : pointwise ? 'te_conv2d_1x1_sparse_s8' : 'te_conv2d_sparse_s8',
    params: { ...p, ...shape, pointwise, fullyConnected, entries: encoding.values.length, denseWeights: denseBytes },
    constants: [...sparseConstants, ...lowering.constants.filter((c) => c.role !== 'weights')],
    // The sparse kernel walks an im2col column (a receptive field's worth of bytes) for every non-pointwise shape.
    ...(pointwise ? {} : { scratch: { bytes: rowLength, purpose: 'im2col' } }),
    weights: { format: 'sparse-delta8', bytes, denseBytes, sparsity: encoding.zeros / encoding.elements },
  };
}
