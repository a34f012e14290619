import type { DataType, TensorData } from '../ir/types.js';
export { integerRange, typedArrayFor } from '../ir/graph.js';

/** An array as the user sees it: read from an input file, written to an output file or printed as JSON. */
export interface NdArray {
  dtype: DataType;
  shape: number[];
  /** Row-major in `shape`; its typed-array kind matches `dtype`. */
  data: TensorData;
}



/** `int8[1,49,10,1]`: how messages and tables name an array type. */
export function describeType(dtype: string, shape: readonly number[]): string {
  return `${dtype}[${shape.join(',')}]`;
}

/** Plain numbers for JSON output (int64 as numbers: our tensors never exceed 2^53). */
export function toNumbers(data: TensorData): number[] {
  return Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
}
