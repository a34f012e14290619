/** Reading small constant operands (shapes, axes, pads, clip bounds) and data types of ONNX tensors. */
import { NodeError } from '../../errors.js';
import type { ConversionContext } from './context.js';
import type { OnnxNode } from './model.js';
import { OnnxDataType } from './proto.js';
import { Unsupported } from './unsupported.js';

/** An int64/int32 constant input as numbers; undefined when the input is absent. */
export function intsInput(ctx: ConversionContext, node: OnnxNode, index: number, what: string): number[] | undefined {
  const name = node.inputs[index];
  if (!name) return undefined;
  const constant = ctx.constant(name);
  if (!constant) throw new Unsupported(`${what} '${name}' computed at run time (tinyedge needs it constant)`);
  if (constant.dataType !== OnnxDataType.INT64 && constant.dataType !== OnnxDataType.INT32) {
    throw new NodeError(node.name, node.opType, `${what} '${name}' should be int64`);
  }
  return Array.from(constant.data as ArrayLike<number | bigint>, Number);
}

/**
 * A constant's real values: a float constant, or an integer constant through a DequantizeLinear (QDQ models
 * quantize Clip bounds and Pad values too).
 */
export function realValues(ctx: ConversionContext, name: string): number[] | undefined {
  const constant = ctx.constant(name);
  if (constant) {
    if (constant.dataType === OnnxDataType.FLOAT || constant.dataType === OnnxDataType.DOUBLE) return Array.from(constant.data as ArrayLike<number>);
    return undefined;
  }
  const producer = ctx.model.producer.get(name);
  if (!producer || producer.opType !== 'DequantizeLinear' || producer.domain !== '') return undefined;
  const data = ctx.constant(producer.inputs[0] ?? '');
  const scale = ctx.constant(producer.inputs[1] ?? '');
  const zeroPoint = ctx.constant(producer.inputs[2] ?? '');
  if (!data || !scale || (producer.inputs[2] && !zeroPoint)) return undefined;
  if (scale.data.length !== 1) return undefined;
  const s = Number(scale.data[0]);
  const z = zeroPoint ? Number(zeroPoint.data[0]) : 0;
  return Array.from(data.data as ArrayLike<number | bigint>, (v) => (Number(v) - z) * s);
}

/** A real scalar constant (Clip bound, LeakyRelu slope given as input, Pad value); undefined when absent. */
export function realScalarInput(ctx: ConversionContext, node: OnnxNode, index: number, what: string): number | undefined {
  const name = node.inputs[index];
  if (!name) return undefined;
  const values = realValues(ctx, name);
  if (!values) throw new Unsupported(`${what} '${name}' computed at run time (tinyedge needs it constant)`);
  if (values.length !== 1) throw new NodeError(node.name, node.opType, `${what} '${name}' should be a scalar`);
  return values[0]!;
}

/** The ONNX data type of a tensor: constant, converted value or declared type. */
export function dataTypeOf(ctx: ConversionContext, name: string): number {
  const constant = ctx.constant(name);
  if (constant) return constant.dataType;
  if (ctx.has(name)) return ctx.onnxDataType(name);
  return ctx.model.declared.get(name)?.dataType ?? OnnxDataType.UNDEFINED;
}

/** The ONNX shape of a tensor when known (constant, converted value or declared). */
export function shapeOf(ctx: ConversionContext, name: string): number[] | undefined {
  const constant = ctx.constant(name);
  if (constant) return [...constant.dims];
  if (ctx.has(name)) return ctx.onnxShape(name);
  const declared = ctx.model.declared.get(name)?.shape;
  return declared && declared.every((d) => d !== undefined) ? (declared as number[]) : undefined;
}
