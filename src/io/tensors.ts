/**
 * The graph boundary: user arrays in a graph input's or output's external dtype (uint8, int8, float32) <-> the IR
 * tensors the engines run on (int8 for quantized tensors). uint8 and int8 differ by a zero-point shift of 128;
 * float32 given for a quantized input is quantized with the input's own scale and zero point.
 */
import { InputError } from '../errors.js';
import { elementCount, tensorOf } from '../ir/graph.js';
import type { DataType, Graph, GraphIO, TensorData } from '../ir/types.js';
import { roundHalfAway, roundHalfEven } from '../quant/fixedpoint.js';
import { describeType, integerRange, typedArrayFor, type NdArray } from './ndarray.js';

/** What the user sees of a graph input or output. */
export interface BoundarySpec {
  name: string;
  shape: number[];
  dtype: DataType;
  /** In the external dtype's domain (a uint8 boundary's zero point is the IR one + 128); absent for float tensors. */
  scale?: number;
  zeroPoint?: number;
}

export function boundarySpec(graph: Graph, io: GraphIO): BoundarySpec {
  const tensor = tensorOf(graph, io.tensor);
  const spec: BoundarySpec = { name: io.name, shape: tensor.shape, dtype: io.externalDtype };
  if (tensor.quant && tensor.quant.scale.length > 0) {
    spec.scale = tensor.quant.scale[0]!;
    spec.zeroPoint = tensor.quant.zeroPoint[0]! + uint8Shift(io.externalDtype, tensor.dtype);
  }
  return spec;
}

/** external = IR + shift: 128 between a uint8 boundary and its int8 IR tensor, 0 otherwise. */
function uint8Shift(external: DataType, ir: DataType): number {
  return external === 'uint8' && ir === 'int8' ? 128 : 0;
}

/** Converts a user's array for graph input `io` into the IR tensor data; `source` names it in errors. */
export function inputToIR(graph: Graph, io: GraphIO, given: NdArray, source: string): TensorData {
  const tensor = tensorOf(graph, io.tensor);
  const expectedCount = elementCount(tensor.shape);
  const expected = describeType(io.externalDtype, tensor.shape);
  const givenText = `${source} holds ${describeType(given.dtype, given.shape)} (${given.data.length} values)`;
  if (given.data.length !== expectedCount) {
    throw new InputError(`input '${io.name}' expects ${expected} (${expectedCount} values); ${givenText}`);
  }
  const quant = tensor.quant;
  if (given.dtype === tensor.dtype && io.externalDtype === tensor.dtype) return copyOf(given.data, tensor.dtype);
  if (given.dtype === io.externalDtype && uint8Shift(io.externalDtype, tensor.dtype) === 128) {
    return shifted(given.data, tensor.dtype, -128);
  }
  if (given.dtype === 'float32' && quant && integerRange(tensor.dtype)) {
    const rounding = graph.format === 'tflite' ? 'half-away' : 'half-even';
    return quantize(given.data as Float32Array, tensor.dtype, quant.scale[0]!, quant.zeroPoint[0]!, rounding);
  }
  const alternatives = quant && io.externalDtype !== 'float32' ? ' (or float32, to be quantized)' : '';
  throw new InputError(`input '${io.name}' expects ${expected}${alternatives}; ${givenText}`);
}

/** Converts IR output data of graph output `io` to the user's external dtype. */
export function outputFromIR(graph: Graph, io: GraphIO, data: TensorData): NdArray {
  const tensor = tensorOf(graph, io.tensor);
  const shape = [...tensor.shape];
  if (io.externalDtype === tensor.dtype) return { dtype: tensor.dtype, shape, data };
  if (uint8Shift(io.externalDtype, tensor.dtype) === 128) {
    return { dtype: 'uint8', shape, data: shifted(data, 'uint8', 128) };
  }
  if (io.externalDtype === 'float32' && tensor.quant) {
    const scale = tensor.quant.scale[0]!;
    const zeroPoint = tensor.quant.zeroPoint[0]!;
    return { dtype: 'float32', shape, data: Float32Array.from(data as Int8Array, (q) => (q - zeroPoint) * scale) };
  }
  throw new Error(`output '${io.name}': no conversion from IR ${tensor.dtype} to external ${io.externalDtype}`);
}

function copyOf(data: TensorData, dtype: DataType): TensorData {
  const out = typedArrayFor(dtype, data.length);
  (out as Int8Array).set(data as Int8Array);
  return out;
}

function shifted(data: TensorData, dtype: DataType, by: number): TensorData {
  const out = typedArrayFor(dtype, data.length);
  for (let i = 0; i < data.length; i++) (out as Int8Array)[i] = Number(data[i]) + by;
  return out;
}

/**
 * q = clamp(round(x / scale) + zeroPoint). TFLite divides in double and rounds half away from zero; ONNX
 * (QuantizeLinear as onnxruntime runs it) divides in float32 and rounds half to even.
 */
export function quantize(
  values: Float32Array,
  dtype: DataType,
  scale: number,
  zeroPoint: number,
  rounding: 'half-away' | 'half-even',
): TensorData {
  const range = integerRange(dtype)!;
  const out = typedArrayFor(dtype, values.length);
  for (let i = 0; i < values.length; i++) {
    const q =
      rounding === 'half-away' ? roundHalfAway(values[i]! / scale) : roundHalfEven(Math.fround(values[i]! / scale));
    (out as Int8Array)[i] = Math.min(range.max, Math.max(range.min, q + zeroPoint));
  }
  return out;
}
