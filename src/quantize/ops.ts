/**
 * What the quantizer knows about each float op: how its output is quantized and what each input is. The set is
 * the ops tinyedge's ONNX importer folds out of QDQ form (src/frontend/onnx/qdq.ts), plus the ops the quantizer
 * rewrites away before quantizing (Identity, Dropout, BatchNormalization after a Conv).
 */
import { UnsupportedOpsError } from '../errors.js';
import type { FloatModel, FloatNode } from './float-model.js';
import { LOGISTIC_OUTPUT, SOFTMAX_OUTPUT, TANH_OUTPUT, type ActivationParams } from './quant-params.js';

/**
 * How an op's output activation gets its parameters:
 * - 'calibrated': from the range observed at the output;
 * - 'shared': the input's parameters (data movement, and pooling, which TFLite-Micro does not requantize);
 * - a fixed pair the integer kernels require (Softmax, Sigmoid, Tanh).
 */
export type OutputRule = 'calibrated' | 'shared' | { fixed: ActivationParams };

const OUTPUT_RULES: Record<string, OutputRule> = {
  Conv: 'calibrated',
  Gemm: 'calibrated',
  MatMul: 'calibrated',
  Add: 'calibrated',
  Sub: 'calibrated',
  Mul: 'calibrated',
  GlobalAveragePool: 'calibrated',
  ReduceMean: 'calibrated',
  Concat: 'calibrated',
  Pad: 'calibrated',
  Relu: 'calibrated',
  Clip: 'calibrated',
  LeakyRelu: 'calibrated',
  HardSwish: 'calibrated',
  Neg: 'calibrated',
  AveragePool: 'shared',
  MaxPool: 'shared',
  Reshape: 'shared',
  Flatten: 'shared',
  Squeeze: 'shared',
  Unsqueeze: 'shared',
  Transpose: 'shared',
  Identity: 'shared',
  Softmax: { fixed: SOFTMAX_OUTPUT },
  Sigmoid: { fixed: LOGISTIC_OUTPUT },
  Tanh: { fixed: TANH_OUTPUT },
};

/** Ops that take a Relu / Clip after them into the same quantized unit (one QuantizeLinear after the activation). */
export const FUSES_ACTIVATION = new Set(['Conv', 'Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'AveragePool', 'MaxPool']);

/** Ops removed by prepare.ts before quantization. */
const REWRITTEN_OPS = new Set(['Dropout', 'BatchNormalization']);

/**
 * - 'data': an activation (or a constant used like one) read through DequantizeLinear;
 * - 'weights' / 'bias': the constant weights and bias of Conv, Gemm, MatMul;
 * - 'parameter': shapes, axes, pads, clip bounds: kept as they are.
 */
export type InputRole = 'data' | 'weights' | 'bias' | 'parameter';

export function outputRule(node: FloatNode): OutputRule {
  const rule = OUTPUT_RULES[node.opType];
  if (!rule || node.domain !== '') throw new Error(`internal: no quantization rule for ${node.opType}`);
  return rule;
}

export function inputRoles(model: FloatModel, node: FloatNode): InputRole[] {
  const constantB = model.constant(node.inputs[1] ?? '') !== undefined;
  switch (node.opType) {
    case 'Conv':
      return ['data', 'weights', 'bias'];
    case 'Gemm':
      return constantB ? ['data', 'weights', 'bias'] : node.inputs.map(() => 'data');
    case 'MatMul':
      return constantB ? ['data', 'weights'] : ['data', 'data'];
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Concat':
      return node.inputs.map(() => 'data');
    default:
      return node.inputs.map((_, i) => (i === 0 ? 'data' : 'parameter'));
  }
}

/** Every op of `model` the quantizer cannot handle, all at once (UnsupportedOpsError). */
export function checkSupportedOps(model: FloatModel): void {
  const unsupported: { node: string; op: string; reason?: string }[] = [];
  for (const node of model.nodes) {
    const op = node.domain ? `${node.domain}.${node.opType}` : node.opType;
    if (node.domain !== '' || !(node.opType in OUTPUT_RULES || REWRITTEN_OPS.has(node.opType))) {
      unsupported.push({ node: node.name, op, reason: 'not supported for quantization' });
    } else if (node.opType === 'BatchNormalization') {
      unsupported.push({ node: node.name, op, reason: 'only a BatchNormalization right after a Conv is supported (folded into it)' });
    } else if (node.opType === 'Dropout') {
      unsupported.push({ node: node.name, op, reason: 'its mask output is used' });
    }
  }
  if (unsupported.length > 0) throw new UnsupportedOpsError(model.file, unsupported);
}
