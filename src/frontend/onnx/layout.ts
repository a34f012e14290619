/**
 * NCHW (ONNX) <-> NHWC (IR) bookkeeping. Every ONNX tensor is held in the IR either in its ONNX element order
 * ('onnx': IR shape = ONNX shape) or, for 4-D activations, channels-last ('nhwc': IR shape = ONNX shape permuted by
 * TO_NHWC). Ops that need one or the other ask for it and a Transpose is inserted where the two differ.
 */
import type { TensorData } from '../../ir/types.js';

export type Layout = 'onnx' | 'nhwc';

/** NCHW -> NHWC: IR axis i holds ONNX axis TO_NHWC[i]. */
export const TO_NHWC = [0, 2, 3, 1] as const;
/** NHWC -> NCHW. */
export const TO_NCHW = [0, 3, 1, 2] as const;

/** The IR axis holding ONNX axis `axis` of a 4-D tensor in `layout`. */
export function irAxis(axis: number, rank: number, layout: Layout): number {
  const normalized = axis < 0 ? axis + rank : axis;
  if (layout === 'onnx' || rank !== 4) return normalized;
  return TO_NHWC.indexOf(normalized as 0 | 1 | 2 | 3);
}

/** The IR shape of an ONNX shape held in `layout`. */
export function irShape(onnxShape: readonly number[], layout: Layout): number[] {
  return layout === 'nhwc' && onnxShape.length === 4 ? permute(onnxShape, TO_NHWC) : [...onnxShape];
}

/** The ONNX shape of an IR shape held in `layout`. */
export function onnxShapeOf(irShapeValue: readonly number[], layout: Layout): number[] {
  return layout === 'nhwc' && irShapeValue.length === 4 ? permute(irShapeValue, TO_NCHW) : [...irShapeValue];
}

export function permute<T>(values: readonly T[], perm: readonly number[]): T[] {
  return perm.map((p) => values[p]!);
}

export function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return inverse;
}

/** True when a transpose of `shape` by `perm` keeps the element order (it only moves size-1 axes). */
export function isOrderPreserving(shape: readonly number[], perm: readonly number[]): boolean {
  const moved = perm.filter((p) => shape[p] !== 1);
  return moved.every((p, i) => i === 0 || p > moved[i - 1]!);
}

/** Row-major transposition of constant data: out[i0..] = in[perm-ordered index]. */
export function transposeData<T extends TensorData | Float64Array | Uint16Array | Uint32Array | BigUint64Array>(data: T, shape: readonly number[], perm: readonly number[]): T {
  const rank = shape.length;
  const outShape = permute(shape, perm);
  const inStrides = strides(shape);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < data.length; o++) {
    let source = 0;
    for (let i = 0; i < rank; i++) source += index[i]! * inStrides[perm[i]!]!;
    (out as unknown as ArrayLike<unknown> & { [i: number]: unknown })[o] = (data as unknown as ArrayLike<unknown>)[source];
    for (let i = rank - 1; i >= 0; i--) {
      if (++index[i]! < outShape[i]!) break;
      index[i] = 0;
    }
  }
  return out;
}

function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i]!;
  }
  return out;
}
