/**
 * QDQ graphs: float ops between DequantizeLinear and QuantizeLinear. The pattern DQ(int8 x) -> op -> [Relu|Clip] ->
 * Q folds into one integer IR node reading x and writing Q's output, with the DQ/Q parameters as its quantization.
 * Data-movement ops (Reshape, Transpose, MaxPool, ...) after a DQ with no Q behind them still run on the integers;
 * their float output is recorded as a dequantized view of the result.
 */
import { NodeError } from '../../errors.js';
import type { ConversionContext } from './context.js';
import { dataTypeOf, intsInput, realScalarInput, shapeOf } from './constants.js';
import {
  lowerBatchMatMul,
  lowerBinary,
  lowerClip,
  lowerConcat,
  lowerConv,
  lowerFullyConnected,
  lowerGlobalAveragePool,
  lowerLeakyRelu,
  lowerPad,
  lowerPool,
  lowerReduceMean,
  lowerReshape,
  lowerSoftmax,
  lowerTranspose,
  lowerUnary,
  type BiasInput,
  type QuantOperand,
  type QuantResult,
  type RealClamp,
} from './lower.js';
import type { OnnxNode } from './model.js';
import { OnnxDataType } from './proto.js';
import { readQuantParams, type OnnxQuant } from './quant-params.js';
import { reshapeTarget, RESHAPING_OPS } from './shape-ops.js';
import { Unsupported } from './unsupported.js';

/** Ops that QDQ graphs wrap in DequantizeLinear / QuantizeLinear and that tinyedge folds. */
export const QDQ_OPS = new Set([
  'Conv',
  'Gemm',
  'MatMul',
  'Add',
  'Mul',
  'Sub',
  'AveragePool',
  'MaxPool',
  'GlobalAveragePool',
  'ReduceMean',
  'Concat',
  'Relu',
  'Clip',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'HardSwish',
  'Reshape',
  'Transpose',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Softmax',
  'Neg',
  'Pad',
]);

/** Ops that move or select integers without arithmetic: they run on the integers even without a Q after them. */
const MOVEMENT_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'MaxPool']);

export function isQuantizeLinear(node: OnnxNode): boolean {
  return node.domain === '' && node.opType === 'QuantizeLinear';
}

export function isDequantizeLinear(node: OnnxNode): boolean {
  return node.domain === '' && node.opType === 'DequantizeLinear';
}

/** Q/DQ whose scale and zero point are constants (DynamicQuantizeLinear's expansion computes them). */
export function hasStaticParams(ctx: ConversionContext, node: OnnxNode): boolean {
  const [, scale, zeroPoint] = node.inputs;
  return scale !== undefined && ctx.constant(scale) !== undefined && (!zeroPoint || ctx.constant(zeroPoint) !== undefined);
}

export function dequantizeParams(ctx: ConversionContext, node: OnnxNode): OnnxQuant {
  const data = node.inputs[0]!;
  const shape = shapeOf(ctx, data);
  return readQuantParams(
    ctx.model,
    node,
    { scale: node.inputs[1] ?? '', zeroPoint: node.inputs[2] ?? '', axis: node.attrs.int('axis', 1), ...(shape ? { dataShape: shape } : {}), defaultDataType: dataTypeOf(ctx, data) },
    (name) => ctx.constant(name),
  );
}

export function quantizeParams(ctx: ConversionContext, node: OnnxNode): OnnxQuant {
  const shape = shapeOf(ctx, node.inputs[0]!);
  return readQuantParams(
    ctx.model,
    node,
    { scale: node.inputs[1] ?? '', zeroPoint: node.inputs[2] ?? '', axis: node.attrs.int('axis', 1), ...(shape ? { dataShape: shape } : {}), defaultDataType: node.attrs.int('output_dtype', 0) || OnnxDataType.UINT8 },
    (name) => ctx.constant(name),
  );
}

/** The integer operand whose dequantization a float tensor is, if any. */
export function dequantizedOperand(ctx: ConversionContext, floatName: string): QuantOperand | undefined {
  if (!floatName) return undefined;
  const view = ctx.dequantizedViews.get(floatName);
  if (view) return view;
  const producer = ctx.model.producer.get(floatName);
  if (!producer || !isDequantizeLinear(producer) || !hasStaticParams(ctx, producer)) return undefined;
  return { name: producer.inputs[0]!, params: dequantizeParams(ctx, producer) };
}

/**
 * Where a float op's result is quantized: its only reader is a QuantizeLinear, possibly behind Relu / Clip nodes
 * that become the IR node's clamp. The absorbed nodes are marked so that they are not converted again.
 */
function quantizedOutput(ctx: ConversionContext, node: OnnxNode, allowClamp = true): { result: QuantResult; clamp?: RealClamp } | { reason: string } {
  let tensor = node.outputs[0]!;
  let clamp: RealClamp | undefined;
  const chain: OnnxNode[] = [];
  for (;;) {
    if (ctx.model.isGraphOutput(tensor)) return { reason: `its float result '${tensor}' is a graph output` };
    const readers = ctx.model.consumersOf(tensor);
    if (readers.length !== 1) return { reason: `its float result '${tensor}' has ${readers.length} readers instead of one QuantizeLinear` };
    const reader = readers[0]!;
    if (isQuantizeLinear(reader) && hasStaticParams(ctx, reader)) {
      for (const absorbed of [...chain, reader]) ctx.absorbed.add(absorbed);
      return { result: { name: reader.outputs[0]!, params: quantizeParams(ctx, reader) }, ...(clamp ? { clamp } : {}) };
    }
    const bounds = allowClamp && reader.domain === '' ? activationBounds(ctx, reader) : undefined;
    if (!bounds) return { reason: `its float result '${tensor}' is read by ${reader.opType} '${reader.name}', not by a QuantizeLinear` };
    clamp = clamp ? { min: Math.max(clamp.min, bounds.min), max: Math.min(clamp.max, bounds.max) } : bounds;
    chain.push(reader);
    tensor = reader.outputs[0]!;
  }
}

/** Real bounds of a Relu or a Clip with constant bounds; undefined for anything else. */
function activationBounds(ctx: ConversionContext, node: OnnxNode): RealClamp | undefined {
  if (node.opType === 'Relu') return { min: 0, max: Infinity };
  if (node.opType !== 'Clip') return undefined;
  try {
    return clipBounds(ctx, node);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

export function clipBounds(ctx: ConversionContext, node: OnnxNode): RealClamp {
  if (ctx.model.opset() < 11) return { min: node.attrs.float('min', -Infinity), max: node.attrs.float('max', Infinity) };
  return { min: realScalarInput(ctx, node, 1, 'min') ?? -Infinity, max: realScalarInput(ctx, node, 2, 'max') ?? Infinity };
}

/**
 * Convert `node` if it is in QDQ form (its quantized inputs come from DequantizeLinear). Returns false when it is
 * not, so that the caller can try the other forms.
 */
export function convertQdqNode(ctx: ConversionContext, node: OnnxNode): boolean {
  const operand = (index: number): QuantOperand | undefined => dequantizedOperand(ctx, node.inputs[index] ?? '');
  const x = operand(0);
  if (!x) return false;

  const output = (allowClamp = true): { result: QuantResult; clamp?: RealClamp } => {
    const found = quantizedOutput(ctx, node, allowClamp);
    if ('reason' in found) throw new Unsupported(`not in QDQ form: ${found.reason}`);
    return found;
  };

  if (MOVEMENT_OPS.has(node.opType)) {
    const found = quantizedOutput(ctx, node, node.opType === 'MaxPool');
    if ('reason' in found) {
      // No QuantizeLinear behind it: compute on the integers and keep the float result as their dequantized view.
      const view: QuantResult = { name: `${node.outputs[0]}_quantized`, params: x.params };
      convertMovement(ctx, node, x, view);
      ctx.dequantizedViews.set(node.outputs[0]!, { name: view.name, params: x.params });
      return true;
    }
    convertMovement(ctx, node, x, found.result, found.clamp);
    return true;
  }

  switch (node.opType) {
    case 'Conv': {
      const w = operand(1);
      if (!w) throw new Unsupported('weights without a DequantizeLinear');
      const { result, clamp } = output();
      lowerConv(ctx, node, x, w, biasInput(ctx, node, 2), result, clamp);
      return true;
    }
    case 'Gemm':
    case 'MatMul': {
      const b = operand(1);
      if (!b) throw new Unsupported('input B without a DequantizeLinear');
      let transposed = false;
      if (node.opType === 'Gemm') {
        if (node.attrs.int('transA', 0) !== 0) throw new Unsupported('Gemm with transA = 1');
        const alpha = node.attrs.float('alpha', 1);
        const beta = node.attrs.float('beta', 1);
        if (alpha !== 1 || beta !== 1) throw new NodeError(node.name, node.opType, `alpha = ${alpha}, beta = ${beta}: tinyedge supports Gemm with alpha = beta = 1 only`);
        transposed = node.attrs.int('transB', 0) !== 0;
      }
      const { result, clamp } = output();
      const weights = ctx.constant(b.name);
      if (weights && weights.dims.length === 2) {
        lowerFullyConnected(ctx, node, x, b, transposed, biasInput(ctx, node, 2), result, clamp);
      } else {
        if (transposed) throw new Unsupported('Gemm with transB = 1 on a run-time input B');
        if (node.inputs[2]) throw new Unsupported('Gemm with a bias on a run-time input B');
        lowerBatchMatMul(ctx, node, x, b, result, clamp);
      }
      return true;
    }
    case 'Add':
    case 'Sub':
    case 'Mul': {
      const b = operand(1);
      if (!b) throw new Unsupported(`input B of ${node.opType} without a DequantizeLinear`);
      const { result, clamp } = output();
      lowerBinary(ctx, node, node.opType, x, b, result, clamp);
      return true;
    }
    case 'AveragePool': {
      const { result, clamp } = output();
      lowerPool(ctx, node, 'AveragePool2D', x, result, clamp);
      return true;
    }
    case 'GlobalAveragePool':
      lowerGlobalAveragePool(ctx, node, x, output(false).result);
      return true;
    case 'ReduceMean': {
      const axes = ctx.model.opset() >= 18 ? intsInput(ctx, node, 1, 'axes') : node.attrs.ints('axes');
      lowerReduceMean(ctx, node, x, output(false).result, axes);
      return true;
    }
    case 'Concat': {
      const inputs = node.inputs.map((name, i) => operand(i) ?? unsupportedInput(name));
      lowerConcat(ctx, node, inputs, output(false).result);
      return true;
    }
    case 'Relu':
      lowerClip(ctx, node, x, output(false).result, { min: 0, max: Infinity });
      return true;
    case 'Clip':
      lowerClip(ctx, node, x, output(false).result, clipBounds(ctx, node));
      return true;
    case 'LeakyRelu':
      lowerLeakyRelu(ctx, node, x, output(false).result, node.attrs.float('alpha', 0.01));
      return true;
    case 'Sigmoid':
    case 'Tanh':
    case 'HardSwish':
    case 'Neg':
      lowerUnary(ctx, node, node.opType === 'Sigmoid' ? 'Logistic' : node.opType, x, output(false).result);
      return true;
    case 'Softmax':
      lowerSoftmax(ctx, node, x, output(false).result);
      return true;
    case 'Pad': {
      const { pads, value } = padOperands(ctx, node);
      lowerPad(ctx, node, x, output(false).result, pads, value);
      return true;
    }
    default:
      return false;
  }
}

/** Reshape family, Transpose, MaxPool: integer in, integer out, same parameters unless `y` says otherwise. */
export function convertMovement(ctx: ConversionContext, node: OnnxNode, x: QuantOperand, y: QuantResult, clamp?: RealClamp): void {
  if (RESHAPING_OPS.has(node.opType)) lowerReshape(ctx, node, x, y, reshapeTarget(ctx, node, ctx.onnxShape(x.name)));
  else if (node.opType === 'Transpose') lowerTranspose(ctx, node, x, y);
  else if (node.opType === 'MaxPool') lowerPool(ctx, node, 'MaxPool2D', x, y, clamp);
  else throw new Error(`internal: ${node.opType} is not a movement op`);
}

/** Pad's pads and constant value (real) from inputs (opset >= 11) or attributes. */
export function padOperands(ctx: ConversionContext, node: OnnxNode): { pads: number[]; value: number } {
  const mode = node.attrs.string('mode', 'constant');
  if (mode !== 'constant') throw new Unsupported(`Pad mode '${mode}' (tinyedge supports constant)`);
  if (ctx.model.opset() < 11) {
    const pads = node.attrs.ints('pads');
    if (!pads) throw new NodeError(node.name, node.opType, 'has no pads');
    return { pads, value: node.attrs.float('value', 0) };
  }
  const pads = intsInput(ctx, node, 1, 'pads');
  if (!pads) throw new NodeError(node.name, node.opType, 'has no pads input');
  if (node.inputs[3]) throw new Unsupported('Pad with an axes input');
  return { pads, value: realScalarInput(ctx, node, 2, 'constant_value') ?? 0 };
}

/** Bias input `index`: int32 through DequantizeLinear, a raw int32 constant, or a float constant to quantize. */
function biasInput(ctx: ConversionContext, node: OnnxNode, index: number): BiasInput | undefined {
  const name = node.inputs[index];
  if (!name) return undefined;
  const dequantized = dequantizedOperand(ctx, name);
  if (dequantized) return { kind: 'int32', name: dequantized.name, params: dequantized.params };
  const constant = ctx.constant(name);
  if (!constant) throw new Unsupported(`bias '${name}' computed at run time`);
  return constant.dataType === OnnxDataType.INT32 ? { kind: 'int32', name } : { kind: 'float', name };
}

function unsupportedInput(name: string): never {
  throw new Unsupported(`input '${name}' without a DequantizeLinear`);
}
