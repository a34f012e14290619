/**
 * Quantization parameters as ONNX states them (QuantizeLinear / DequantizeLinear inputs, QLinear* scale and zero point
 * inputs), and their IR form: int8 domain (uint8 zero points shifted by 128), float32 scales, axis in IR layout.
 */
import { NodeError } from '../../errors.js';
import { roundHalfEven } from '../../quant/fixedpoint.js';
import type { Quantization } from '../../ir/types.js';
import type { OnnxModel, OnnxNode } from './model.js';
import { OnnxDataType, onnxDataTypeName } from './proto.js';
import type { OnnxTensorValue } from './tensor-proto.js';
import { Unsupported } from './unsupported.js';

export interface OnnxQuant {
  /** float32 values. */
  scale: number[];
  /** In the ONNX data type's own domain (uint8: 0..255). */
  zeroPoint: number[];
  /** ONNX axis of the data tensor, present for per-axis parameters. */
  axis?: number;
  /** ONNX data type of the quantized integers: INT8, UINT8 or (bias) INT32. */
  dataType: number;
}

export interface QuantParamsSource {
  scale: string;
  zeroPoint: string;
  /** The `axis` attribute (default 1, the ONNX default) — used only for per-axis parameters. */
  axis?: number;
  /** Rank and shape of the data tensor, when known, to check per-axis lengths. */
  dataShape?: readonly number[];
  /** Data type when there is no zero point (QuantizeLinear: output_dtype or uint8; DequantizeLinear: the data's). */
  defaultDataType: number;
}

const eightBit = new Set<number>([OnnxDataType.INT8, OnnxDataType.UINT8]);

/** Read scale / zero point constants of `node`; static parameters are required (NodeError otherwise). */
export function readQuantParams(model: OnnxModel, node: OnnxNode, source: QuantParamsSource, constant = (name: string) => model.constant(name)): OnnxQuant {
  const blockSize = node.attrs.int('block_size', 0);
  if (blockSize > 0) throw new Unsupported(`blocked quantization (block_size ${blockSize})`);

  const scaleTensor = constant(source.scale);
  if (!source.scale) throw new NodeError(node.name, node.opType, 'has no scale input');
  if (!scaleTensor) throw new NodeError(node.name, node.opType, `scale '${source.scale}' is not a constant: tinyedge needs static quantization parameters`);
  const scale = scaleValues(node, scaleTensor);

  let dataType = source.defaultDataType;
  let zeroPoint: number[];
  if (source.zeroPoint) {
    const zeroPointTensor = constant(source.zeroPoint);
    if (!zeroPointTensor) throw new NodeError(node.name, node.opType, `zero point '${source.zeroPoint}' is not a constant: tinyedge needs static quantization parameters`);
    dataType = zeroPointTensor.dataType;
    zeroPoint = Array.from(zeroPointTensor.data as ArrayLike<number>, Number);
    if (zeroPoint.length !== scale.length && zeroPoint.length !== 1) {
      throw new NodeError(node.name, node.opType, `${scale.length} scales but ${zeroPoint.length} zero points`);
    }
    if (zeroPoint.length === 1 && scale.length > 1) zeroPoint = scale.map(() => zeroPoint[0]!);
  } else {
    zeroPoint = scale.map(() => 0);
  }
  checkDataType(dataType);
  if (scaleTensor.dims.length > 1) throw new Unsupported(`blocked quantization (scale of shape [${scaleTensor.dims.join(', ')}])`);

  if (scale.length === 1) return { scale, zeroPoint, dataType };
  const rank = source.dataShape?.length;
  let axis = source.axis ?? 1;
  if (rank !== undefined) {
    if (axis < -rank || axis >= rank) throw new NodeError(node.name, node.opType, `axis ${axis} is out of range for a ${rank}-D tensor`);
    if (axis < 0) axis += rank;
    const size = source.dataShape![axis];
    if (size !== undefined && size !== scale.length) {
      throw new NodeError(node.name, node.opType, `${scale.length} scales for axis ${axis} of size ${size}`);
    }
  }
  return { scale, zeroPoint, axis, dataType };
}

function scaleValues(node: OnnxNode, tensor: OnnxTensorValue): number[] {
  let values: number[];
  if (tensor.dataType === OnnxDataType.FLOAT || tensor.dataType === OnnxDataType.DOUBLE) {
    values = Array.from(tensor.data as ArrayLike<number>, (v) => Math.fround(v));
  } else if (tensor.dataType === OnnxDataType.FLOAT16 || tensor.dataType === OnnxDataType.BFLOAT16) {
    throw new Unsupported(`${onnxDataTypeName(tensor.dataType)} quantization scales (tinyedge reads float32 scales)`);
  } else {
    throw new NodeError(node.name, node.opType, `scale '${tensor.name}' has data type ${onnxDataTypeName(tensor.dataType)}`);
  }
  if (values.length === 0) throw new NodeError(node.name, node.opType, `scale '${tensor.name}' is empty`);
  for (const value of values) {
    if (!(value > 0) || !Number.isFinite(value)) throw new NodeError(node.name, node.opType, `scale ${value} is not a positive finite number`);
  }
  return values;
}

function checkDataType(dataType: number): void {
  if (dataType === OnnxDataType.INT8 || dataType === OnnxDataType.UINT8 || dataType === OnnxDataType.INT32) return;
  if (dataType === OnnxDataType.INT16 || dataType === OnnxDataType.UINT16) {
    throw new Unsupported(`16-bit quantization (${onnxDataTypeName(dataType)}); tinyedge runs 8-bit quantized models`);
  }
  throw new Unsupported(`quantization to ${onnxDataTypeName(dataType)}; tinyedge runs 8-bit quantized models`);
}

/** 8-bit activation or weight parameters (int32 only for biases). */
export function requireEightBit(params: OnnxQuant, what: string): void {
  if (!eightBit.has(params.dataType)) {
    throw new Unsupported(`${what} quantized to ${onnxDataTypeName(params.dataType)}; tinyedge expects int8 or uint8`);
  }
}

/** IR quantization: int8 domain (uint8 zero points shifted by 128), axis given in the IR tensor's layout. */
export function irQuant(params: OnnxQuant, irAxis?: number): Quantization {
  const shift = params.dataType === OnnxDataType.UINT8 ? 128 : 0;
  return {
    scale: params.scale.map((s) => Math.fround(s)),
    zeroPoint: params.zeroPoint.map((z) => z - shift),
    axis: params.scale.length > 1 ? (irAxis ?? params.axis ?? 0) : 0,
  };
}

export function sameQuant(a: OnnxQuant, b: OnnxQuant): boolean {
  const shiftA = a.dataType === OnnxDataType.UINT8 ? 128 : 0;
  const shiftB = b.dataType === OnnxDataType.UINT8 ? 128 : 0;
  return (
    a.scale.length === b.scale.length &&
    a.scale.every((s, i) => s === b.scale[i]) &&
    a.zeroPoint.every((z, i) => z - shiftA === b.zeroPoint[i]! - shiftB) &&
    (a.scale.length === 1 || a.axis === b.axis)
  );
}

export function sameIrQuant(a: Quantization, b: Quantization): boolean {
  return (
    a.scale.length === b.scale.length &&
    a.scale.every((s, i) => s === b.scale[i]) &&
    a.zeroPoint.every((z, i) => z === b.zeroPoint[i]) &&
    (a.scale.length === 1 || a.axis === b.axis)
  );
}

/** A real value quantized onto an IR (int8-domain) per-tensor quantization, saturated to [lo, hi]. */
export function quantizeReal(value: number, quant: Quantization, lo = -128, hi = 127): number {
  if (value === Infinity) return hi;
  if (value === -Infinity) return lo;
  const q = roundHalfEven(value / quant.scale[0]!) + quant.zeroPoint[0]!;
  return Math.min(hi, Math.max(lo, q));
}
