/**
 * The matrix-multiplication core shared by the DSP convolution and fully connected kernels: output channels (rows
 * of the weight matrix) times columns of widened input (one per output pixel), in blocks of R rows x P columns so
 * that each loaded weight word feeds P columns and each input word R rows.
 *
 * Data layout (decided here, read by templates/kernels/dsp/partials/dsp_mm_step.hbs):
 * - K (the reduction) runs in groups of 4. A group of 4 int8 inputs is stored widened as two words: SXTB16 of the
 *   4 bytes (lanes x0, x2) and of the bytes rotated by 8 (x1, x3). The weights stay int8, one word per group, and
 *   are widened the same way in the loop, so SMLAD(x02, w02) + SMLAD(x13, w13) = x0w0 + x1w1 + x2w2 + x3w3.
 * - Columns are interleaved per group: group g of column j at words (g * P + j) * 2, + 1.
 * - Weights are interleaved per block of R rows: word g of row r of the block at g * R + r. A trailing smaller
 *   block interleaves its own rows the same way.
 */

/** Little-endian int32 words of int8 values; the length must be a multiple of 4. */
export function wordsOf(bytes: ArrayLike<number>): Int32Array {
  if (bytes.length % 4 !== 0) throw new Error(`${bytes.length} bytes do not make whole words`);
  const words = new Int32Array(bytes.length / 4);
  for (let i = 0; i < words.length; i++) {
    words[i] = (bytes[4 * i]! & 0xff) | ((bytes[4 * i + 1]! & 0xff) << 8) | ((bytes[4 * i + 2]! & 0xff) << 16) | (bytes[4 * i + 3]! << 24);
  }
  return words;
}

/** Rows of `groups` words each, interleaved in blocks of `blockRows` rows (the last block may be smaller). */
export function interleaveRows(rows: readonly Int32Array[], blockRows: number): Int32Array {
  const groups = rows[0]?.length ?? 0;
  const out = new Int32Array(rows.length * groups);
  let index = 0;
  for (let first = 0; first < rows.length; first += blockRows) {
    const block = rows.slice(first, first + blockRows);
    for (let g = 0; g < groups; g++) for (const row of block) out[index++] = row[g]!;
  }
  return out;
}

/** A word of two int16 lanes: `low` in bits 0-15, `high` in bits 16-31. */
export function lanes(low: number, high: number): number {
  return ((low & 0xffff) | (high << 16)) | 0;
}

/** The two int16 lanes of a word both holding `value` (a padding tap widened). */
export function int16Pair(value: number): number {
  return lanes(value, value);
}

export interface BlockView {
  /** Rows (output channels) in the block: `r` names the accumulators' second index; e, o: its widened weight words. */
  rows: { r: number; e: number; o: number }[];
  /** Columns (pixels) in the block, with the word offsets of their group within a column group. */
  pixels: { j: number; e: number; o: number }[];
  rowCount: number;
  /** Words from one group of all columns to the next. */
  groupStride: number;
  /** One column: its input words stay in registers while the rows' weight words stream past, two at a time. */
  streamRows: boolean;
  /** Rows two by two (the second absent for an odd last row): adjacent weight words, one double-word load. */
  rowPairs: { first: number; second: number | false }[];
  /** Weights stored already widened (two int16-pair words per row and group), see widenedRows. */
  wideWeights: boolean;
  /** Weight words per group of the block. */
  weightWords: number;
}

export function blockView(rows: number, columns: number, groupStride: number): BlockView {
  return {
    rows: Array.from({ length: rows }, (_, r) => ({ r, e: 2 * r, o: 2 * r + 1 })),
    pixels: Array.from({ length: columns }, (_, j) => ({ j, e: 2 * j, o: 2 * j + 1 })),
    rowCount: rows,
    groupStride,
    streamRows: false,
    wideWeights: false,
    weightWords: rows,
    rowPairs: Array.from({ length: Math.ceil(rows / 2) }, (_, i) => ({ first: 2 * i, second: 2 * i + 1 < rows ? 2 * i + 1 : false })),
  };
}

/**
 * A weight row (groups of 4 int8, zero-padded) stored widened: per group the int16 pairs (w0, w2) and (w1, w3),
 * the lanes the widened inputs hold. Twice the bytes of the int8 row, and no SXTB16 in the loop.
 */
export function widenedRow(bytes: Int8Array): Int32Array {
  const words = new Int32Array(bytes.length / 2);
  for (let g = 0; g < bytes.length / 4; g++) {
    words[2 * g] = lanes(bytes[4 * g]!, bytes[4 * g + 2]!);
    words[2 * g + 1] = lanes(bytes[4 * g + 1]!, bytes[4 * g + 3]!);
  }
  return words;
}

/** Widened rows interleaved in blocks of `blockRows`: per group, each row's two words in turn. */
export function interleaveWidenedRows(rows: readonly Int32Array[], blockRows: number): Int32Array {
  const groups = (rows[0]?.length ?? 0) / 2;
  const out = new Int32Array(rows.length * groups * 2);
  let index = 0;
  for (let first = 0; first < rows.length; first += blockRows) {
    const block = rows.slice(first, first + blockRows);
    for (let g = 0; g < groups; g++) {
      for (const row of block) {
        out[index++] = row[2 * g]!;
        out[index++] = row[2 * g + 1]!;
      }
    }
  }
  return out;
}

/**
 * The group loop unrolled `factor` times (loop overhead once per `factor` groups), and the groups left over: arrays
 * whose lengths the block partial repeats its step by.
 */
export function unrolledGroups(groups: number, factor: number): { unroll: null[]; remainder: null[] } {
  const steps = Math.max(1, Math.min(factor, groups));
  return { unroll: new Array<null>(steps).fill(null), remainder: new Array<null>(groups % steps).fill(null) };
}
