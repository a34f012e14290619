import type { DataType, TensorData } from '../ir/types.js';
export { typedArrayFor } from '../ir/graph.js';

/** An array as the user sees it: read from an input file, written to an output file or printed as JSON. */
export interface NdArray {
  dtype: DataType;
  shape: number[];
  /** Row-major in `shape`; its typed-array kind matches `dtype`. */
  data: TensorData;
}


/** The value range of an integer dtype; floats have none. */
export function integerRange(dtype: DataType): { min: number; max: number } | undefined {
  switch (dtype) {
    case 'int8':
      return { min: -128, max: 127 };
    case 'uint8':
      return { min: 0, max: 255 };
    case 'int16':
      return { min: -32768, max: 32767 };
    case 'int32':
      return { min: -2147483648, max: 2147483647 };
    case 'int64':
      return { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER };
    case 'float32':
      return undefined;
  }
}

/** `int8[1,49,10,1]`: how messages and tables name an array type. */
export function describeType(dtype: string, shape: readonly number[]): string {
  return `${dtype}[${shape.join(',')}]`;
}

/** Plain numbers for JSON output (int64 as numbers: our tensors never exceed 2^53). */
export function toNumbers(data: TensorData): number[] {
  return Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
}
