/**
 * Semantics of the FloatOp nodes the ONNX frontend emits (DynamicQuantizeLinear and the float ops of its expanded
 * form, QuantizeLinear / DequantizeLinear with run-time parameters). The reference interpreter runs them through
 * runFloatOp; code generation rejects them.
 *
 * Arithmetic is float32 (every intermediate Math.fround'ed) and rounding half to even, as ONNX's reference
 * implementation (numpy float32) and onnxruntime compute them.
 *
 * onnxOp and params:
 * - DynamicQuantizeLinear {}: x float32 -> [y uint8, y_scale float32 [], y_zero_point uint8 []]
 * - QuantizeLinear { axis, outputDtype: 'uint8' | 'int8' }: [x, scale, zero_point?] -> y
 * - DequantizeLinear { axis }: [x (uint8 | int8 | int32), scale, zero_point?] -> float32
 * - ReduceMin / ReduceMax / ReduceMean / ReduceSum { keepdims: 0 | 1, axes?: number[] (absent: all) }
 * - Add / Sub / Mul / Div / Min / Max {}: numpy broadcasting (Min / Max take any number of inputs)
 * - Clip { min?, max? }: inputs [x, min?, max?] (a run-time input wins over the param)
 * - Round {} (half to even), Relu {}, Identity {}
 * - Cast { to: 'float32' | 'uint8' | 'int8' | 'int32' | 'int64' }: float -> integer truncates toward zero, then
 *   wraps like a C cast of an in-range value (ONNX leaves out-of-range casts undefined)
 */
import { broadcastShapes } from '../../ir/shapes.js';
import { roundHalfEven } from '../../quant/fixedpoint.js';
import type { DataType, FloatOpNode, TensorData } from '../../ir/types.js';

export interface FloatOpValue {
  data: TensorData;
  shape: number[];
}

export const FLOAT_OPS = new Set([
  'DynamicQuantizeLinear',
  'QuantizeLinear',
  'DequantizeLinear',
  'ReduceMin',
  'ReduceMax',
  'ReduceMean',
  'ReduceSum',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Min',
  'Max',
  'Clip',
  'Round',
  'Relu',
  'Identity',
  'Cast',
]);

/** Output data types of a FloatOp. */
export function floatOpOutputDtypes(node: FloatOpNode, inputDtypes: readonly (DataType | undefined)[]): DataType[] {
  const { onnxOp, params } = node.attrs;
  switch (onnxOp) {
    case 'DynamicQuantizeLinear':
      return ['uint8', 'float32', 'uint8'];
    case 'QuantizeLinear':
      return [(params['outputDtype'] as DataType | undefined) ?? 'uint8'];
    case 'DequantizeLinear':
      return ['float32'];
    case 'Cast':
      return [params['to'] as DataType];
    default:
      return [inputDtypes[0] ?? 'float32'];
  }
}

/** Run one FloatOp on its inputs (absent optional inputs are undefined). */
export function runFloatOp(node: FloatOpNode, inputs: readonly (FloatOpValue | undefined)[]): FloatOpValue[] {
  const { onnxOp, params } = node.attrs;
  const x = inputs[0];
  if (!x) throw new Error(`FloatOp ${node.name} (${onnxOp}): input 0 is missing`);
  switch (onnxOp) {
    case 'DynamicQuantizeLinear':
      return dynamicQuantizeLinear(x);
    case 'QuantizeLinear':
      return [quantizeLinear(x, inputs[1]!, inputs[2], numberParam(params['axis'], 1), (params['outputDtype'] as string | undefined) ?? 'uint8')];
    case 'DequantizeLinear':
      return [dequantizeLinear(x, inputs[1]!, inputs[2], numberParam(params['axis'], 1))];
    case 'ReduceMin':
      return [reduce(x, params, (a, b) => Math.min(a, b), Infinity)];
    case 'ReduceMax':
      return [reduce(x, params, (a, b) => Math.max(a, b), -Infinity)];
    case 'ReduceSum':
      return [reduce(x, params, (a, b) => Math.fround(a + b), 0)];
    case 'ReduceMean': {
      const sum = reduce(x, params, (a, b) => Math.fround(a + b), 0);
      const count = x.data.length / Math.max(1, sum.data.length);
      return [{ shape: sum.shape, data: (sum.data as Float32Array).map((v) => Math.fround(v / count)) }];
    }
    case 'Add':
      return [elementwise(inputs, (a, b) => Math.fround(a + b))];
    case 'Sub':
      return [elementwise(inputs, (a, b) => Math.fround(a - b))];
    case 'Mul':
      return [elementwise(inputs, (a, b) => Math.fround(a * b))];
    case 'Div':
      return [elementwise(inputs, (a, b) => Math.fround(a / b))];
    case 'Min':
      return [elementwise(inputs, (a, b) => Math.min(a, b))];
    case 'Max':
      return [elementwise(inputs, (a, b) => Math.max(a, b))];
    case 'Clip': {
      const min = inputs[1] ? Number(inputs[1].data[0]) : numberParam(params['min'], -Infinity);
      const max = inputs[2] ? Number(inputs[2].data[0]) : numberParam(params['max'], Infinity);
      return [map(x, (v) => Math.min(max, Math.max(min, v)))];
    }
    case 'Round':
      return [map(x, roundHalfEven)];
    case 'Relu':
      return [map(x, (v) => Math.max(0, v))];
    case 'Identity':
      return [{ shape: [...x.shape], data: x.data.slice() as TensorData }];
    case 'Cast':
      return [cast(x, params['to'] as DataType)];
    default:
      throw new Error(`FloatOp ${node.name}: unknown float op ${onnxOp}`);
  }
}

function dynamicQuantizeLinear(x: FloatOpValue): FloatOpValue[] {
  let min = 0;
  let max = 0;
  for (const v of x.data as Float32Array) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = Math.fround(Math.fround(max - min) / 255);
  const zeroPoint = scale === 0 ? 0 : clampTo(roundHalfEven(Math.fround(0 - Math.fround(min / scale))), 0, 255);
  const y = new Uint8Array(x.data.length);
  (x.data as Float32Array).forEach((v, i) => {
    y[i] = scale === 0 ? zeroPoint : clampTo(roundHalfEven(Math.fround(v / scale)) + zeroPoint, 0, 255);
  });
  return [
    { data: y, shape: [...x.shape] },
    { data: Float32Array.of(scale), shape: [] },
    { data: Uint8Array.of(zeroPoint), shape: [] },
  ];
}

function quantizeLinear(x: FloatOpValue, scale: FloatOpValue, zeroPoint: FloatOpValue | undefined, axis: number, outputDtype: string): FloatOpValue {
  const [lo, hi] = outputDtype === 'int8' ? [-128, 127] : [0, 255];
  const out = outputDtype === 'int8' ? new Int8Array(x.data.length) : new Uint8Array(x.data.length);
  const channel = channelIndexer(x.shape, scale.data.length, axis);
  (x.data as Float32Array).forEach((v, i) => {
    const c = channel(i);
    const z = zeroPoint ? Number(zeroPoint.data[c]) : 0;
    out[i] = clampTo(roundHalfEven(Math.fround(v / Number(scale.data[c]))) + z, lo, hi);
  });
  return { data: out, shape: [...x.shape] };
}

function dequantizeLinear(x: FloatOpValue, scale: FloatOpValue, zeroPoint: FloatOpValue | undefined, axis: number): FloatOpValue {
  const out = new Float32Array(x.data.length);
  const channel = channelIndexer(x.shape, scale.data.length, axis);
  for (let i = 0; i < out.length; i++) {
    const c = channel(i);
    const z = zeroPoint ? Number(zeroPoint.data[c]) : 0;
    out[i] = Math.fround((Number(x.data[i]) - z) * Number(scale.data[c]));
  }
  return { data: out, shape: [...x.shape] };
}

/** Flat index -> parameter index for per-tensor (1 value) or per-axis parameters. */
function channelIndexer(shape: readonly number[], count: number, axis: number): (index: number) => number {
  if (count === 1) return () => 0;
  const a = axis < 0 ? axis + shape.length : axis;
  const inner = shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const size = shape[a]!;
  return (index) => Math.floor(index / inner) % size;
}

function reduce(x: FloatOpValue, params: FloatOpNode['attrs']['params'], combine: (a: number, b: number) => number, initial: number): FloatOpValue {
  const rank = x.shape.length;
  const given = params['axes'];
  const axes = Array.isArray(given) && given.length > 0 ? given.map((a) => (a < 0 ? a + rank : a)) : [...Array(rank).keys()];
  const keep = params['keepdims'] !== 0;
  const reducedShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float32Array(reducedShape.reduce((p, d) => p * d, 1)).fill(initial);
  const outStrides = strides(reducedShape);
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < x.data.length; i++) {
    let o = 0;
    for (let k = 0; k < rank; k++) if (!axes.includes(k)) o += index[k]! * outStrides[k]!;
    out[o] = combine(out[o]!, Number(x.data[i]));
    for (let k = rank - 1; k >= 0; k--) {
      if (++index[k]! < x.shape[k]!) break;
      index[k] = 0;
    }
  }
  return { data: out, shape: keep ? reducedShape : x.shape.filter((_, i) => !axes.includes(i)) };
}

function elementwise(inputs: readonly (FloatOpValue | undefined)[], combine: (a: number, b: number) => number): FloatOpValue {
  const present = inputs.filter((v): v is FloatOpValue => v !== undefined);
  let result: FloatOpValue = { shape: [...present[0]!.shape], data: Float32Array.from(present[0]!.data as ArrayLike<number>, Number) };
  for (const other of present.slice(1)) {
    const shape = broadcastShapes(result.shape, other.shape);
    if (!shape) throw new Error(`shapes [${result.shape.join(', ')}] and [${other.shape.join(', ')}] do not broadcast`);
    const a = broadcastIndexer(result.shape, shape);
    const b = broadcastIndexer(other.shape, shape);
    const out = new Float32Array(shape.reduce((p, d) => p * d, 1));
    for (let i = 0; i < out.length; i++) out[i] = combine(Number(result.data[a(i)]), Number(other.data[b(i)]));
    result = { shape, data: out };
  }
  return result;
}

/** Flat output index -> flat index into an input broadcast to `shape`. */
function broadcastIndexer(inputShape: readonly number[], shape: readonly number[]): (index: number) => number {
  const offset = shape.length - inputShape.length;
  const inputStrides = strides(inputShape);
  return (index) => {
    let source = 0;
    let rest = index;
    for (let k = shape.length - 1; k >= 0; k--) {
      const coordinate = rest % shape[k]!;
      rest = Math.floor(rest / shape[k]!);
      const j = k - offset;
      if (j >= 0 && inputShape[j] !== 1) source += coordinate * inputStrides[j]!;
    }
    return source;
  };
}

function map(x: FloatOpValue, f: (v: number) => number): FloatOpValue {
  return { shape: [...x.shape], data: Float32Array.from(x.data as ArrayLike<number>, (v) => Math.fround(f(Number(v)))) };
}

function cast(x: FloatOpValue, to: DataType): FloatOpValue {
  const values = Array.from(x.data as ArrayLike<number | bigint>, Number);
  const integer = (v: number): number => (Number.isFinite(v) ? Math.trunc(v) : 0);
  switch (to) {
    case 'float32':
      return { shape: [...x.shape], data: Float32Array.from(values) };
    case 'uint8':
      return { shape: [...x.shape], data: Uint8Array.from(values, integer) };
    case 'int8':
      return { shape: [...x.shape], data: Int8Array.from(values, integer) };
    case 'int16':
      return { shape: [...x.shape], data: Int16Array.from(values, integer) };
    case 'int32':
      return { shape: [...x.shape], data: Int32Array.from(values, integer) };
    case 'int64':
      return { shape: [...x.shape], data: BigInt64Array.from(values, (v) => BigInt(integer(v))) };
  }
}

function clampTo(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function numberParam(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
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
