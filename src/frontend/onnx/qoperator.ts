/**
 * QOperator graphs: integer ops that carry their quantization parameters as inputs (QLinearConv, QLinearMatMul,
 * the com.microsoft QLinear* family, QGemm) and the integer-accumulator ops ConvInteger / MatMulInteger, whose int32
 * result has no output quantization.
 */
import { NodeError } from '../../errors.js';
import type { ConversionContext } from './context.js';
import { dataTypeOf, shapeOf } from './constants.js';
import {
  lowerBatchMatMul,
  lowerBinary,
  lowerConcat,
  lowerConv,
  lowerFullyConnected,
  lowerGlobalAveragePool,
  lowerLeakyRelu,
  lowerPool,
  lowerUnary,
  type QuantOperand,
  type QuantResult,
} from './lower.js';
import type { OnnxNode } from './model.js';
import { OnnxDataType } from './proto.js';
import { readQuantParams, type OnnxQuant } from './quant-params.js';
import { Unsupported } from './unsupported.js';

const DEFAULT_DOMAIN_OPS = new Set(['QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger']);
const MICROSOFT_OPS = new Set([
  'QLinearAdd',
  'QLinearMul',
  'QLinearConcat',
  'QLinearAveragePool',
  'QLinearGlobalAveragePool',
  'QLinearSigmoid',
  'QLinearLeakyRelu',
  'QGemm',
]);

export function isQOperatorOp(node: OnnxNode): boolean {
  return node.domain === '' ? DEFAULT_DOMAIN_OPS.has(node.opType) : node.domain === 'com.microsoft' && MICROSOFT_OPS.has(node.opType);
}

export function convertQOperatorNode(ctx: ConversionContext, node: OnnxNode): void {
  const input = (index: number): string => node.inputs[index] ?? '';
  /** Data input `data` with its scale and zero point inputs. */
  const operand = (data: number, scale: number, zeroPoint: number, axis?: number): QuantOperand => ({
    name: input(data),
    params: params(ctx, node, input(data), input(scale), input(zeroPoint), axis),
  });
  /** Output quantized with the scale / zero point inputs. */
  const result = (scale: number, zeroPoint: number): QuantResult => ({
    name: node.outputs[0]!,
    params: params(ctx, node, '', input(scale), input(zeroPoint), undefined, dataTypeOf(ctx, node.outputs[0]!) || dataTypeOf(ctx, input(0)) || OnnxDataType.UINT8),
  });

  switch (node.opType) {
    case 'QLinearConv':
      lowerConv(ctx, node, operand(0, 1, 2), operand(3, 4, 5, 0), input(8) ? { kind: 'int32', name: input(8) } : undefined, result(6, 7));
      return;
    case 'QLinearMatMul': {
      const a = operand(0, 1, 2);
      const bRank = shapeOf(ctx, input(3))?.length ?? 2;
      const b = operand(3, 4, 5, bRank - 1);
      matMul(ctx, node, a, b, result(6, 7));
      return;
    }
    case 'QGemm': {
      if (!input(7)) throw new Unsupported('QGemm with a float output (no y_scale)');
      if (node.attrs.int('transA', 0) !== 0) throw new Unsupported('QGemm with transA = 1');
      const alpha = node.attrs.float('alpha', 1);
      if (alpha !== 1) throw new NodeError(node.name, node.opType, `alpha = ${alpha}: tinyedge supports alpha = 1 only`);
      const transposed = node.attrs.int('transB', 0) !== 0;
      const b = operand(3, 4, 5, transposed ? 0 : 1);
      if (!ctx.constant(b.name)) throw new Unsupported('QGemm with a run-time input B');
      lowerFullyConnected(ctx, node, operand(0, 1, 2), b, transposed, input(6) ? { kind: 'int32', name: input(6) } : undefined, result(7, 8));
      return;
    }
    case 'ConvInteger':
      lowerConv(ctx, node, integerOperand(ctx, node, 0, 2), integerOperand(ctx, node, 1, 3, 0), undefined, { name: node.outputs[0]! });
      return;
    case 'MatMulInteger': {
      const bRank = shapeOf(ctx, input(1))?.length ?? 2;
      const a = integerOperand(ctx, node, 0, 2);
      if (a.params.zeroPoint.length > 1) throw new Unsupported('MatMulInteger with per-row zero points of A');
      matMul(ctx, node, a, integerOperand(ctx, node, 1, 3, bRank - 1), { name: node.outputs[0]! });
      return;
    }
    case 'QLinearAdd':
    case 'QLinearMul':
      lowerBinary(ctx, node, node.opType === 'QLinearAdd' ? 'Add' : 'Mul', operand(0, 1, 2), operand(3, 4, 5), result(6, 7));
      return;
    case 'QLinearConcat': {
      const inputs: QuantOperand[] = [];
      for (let i = 2; i < node.inputs.length; i += 3) inputs.push(operand(i, i + 1, i + 2));
      if (inputs.length === 0) throw new NodeError(node.name, node.opType, 'has no inputs to concatenate');
      lowerConcat(ctx, node, inputs, result(0, 1));
      return;
    }
    case 'QLinearAveragePool':
      lowerPool(ctx, node, 'AveragePool2D', operand(0, 1, 2), result(3, 4), undefined, node.attrs.int('channels_last', 0) !== 0);
      return;
    case 'QLinearGlobalAveragePool':
      lowerGlobalAveragePool(ctx, node, operand(0, 1, 2), result(3, 4), node.attrs.int('channels_last', 0) !== 0);
      return;
    case 'QLinearSigmoid':
      lowerUnary(ctx, node, 'Logistic', operand(0, 1, 2), result(3, 4));
      return;
    case 'QLinearLeakyRelu':
      lowerLeakyRelu(ctx, node, operand(0, 1, 2), result(3, 4), node.attrs.float('alpha', 0.01));
      return;
    default:
      throw new Unsupported(`${node.opType} is not supported`);
  }
}

function matMul(ctx: ConversionContext, node: OnnxNode, a: QuantOperand, b: QuantOperand, y: QuantResult): void {
  const weights = ctx.constant(b.name);
  if (weights && weights.dims.length === 2) lowerFullyConnected(ctx, node, a, b, false, undefined, y);
  else lowerBatchMatMul(ctx, node, a, b, y);
}

function params(ctx: ConversionContext, node: OnnxNode, data: string, scale: string, zeroPoint: string, axis?: number, defaultDataType?: number): OnnxQuant {
  const shape = data ? shapeOf(ctx, data) : undefined;
  return readQuantParams(
    ctx.model,
    node,
    { scale, zeroPoint, ...(axis !== undefined ? { axis } : {}), ...(shape ? { dataShape: shape } : {}), defaultDataType: defaultDataType ?? dataTypeOf(ctx, data) },
    (name) => ctx.constant(name),
  );
}

/**
 * ConvInteger / MatMulInteger operand: a zero point but no scale. Scale 1 makes the IR's real values the
 * zero-point-corrected integers the op multiplies.
 */
function integerOperand(ctx: ConversionContext, node: OnnxNode, data: number, zeroPoint: number, axis?: number): QuantOperand {
  const name = node.inputs[data] ?? '';
  const dataType = dataTypeOf(ctx, name);
  const zeroPointName = node.inputs[zeroPoint] ?? '';
  let values = [0];
  if (zeroPointName) {
    const constant = ctx.constant(zeroPointName);
    if (!constant) throw new NodeError(node.name, node.opType, `zero point '${zeroPointName}' is not a constant: tinyedge needs static quantization parameters`);
    values = Array.from(constant.data as ArrayLike<number>, Number);
  }
  if (dataType !== OnnxDataType.INT8 && dataType !== OnnxDataType.UINT8) throw new Unsupported(`${node.opType} on ${dataType} data (tinyedge expects int8 or uint8)`);
  const params: OnnxQuant = { scale: values.map(() => 1), zeroPoint: values, dataType };
  if (values.length > 1) params.axis = axis ?? 0;
  return { name, params };
}
