/**
 * Quantize (float32 -> int, or int -> int8 requantization) and Dequantize (int -> float32), element by element.
 */
import { NodeError } from '../../errors.js';
import { elementCount } from '../../ir/graph.js';
import type { DequantizeNode, Graph, QuantizeNode } from '../../ir/types.js';
import { dequantizeParams, quantizeParams } from '../../quant/params.js';
import { ctypeOf, type KernelCall } from '../kernel-call.js';
import { inputTensor, outputTensor, requireDtype } from './common.js';

const RANGES: Record<string, { min: number; max: number }> = {
  int8: { min: -128, max: 127 },
  uint8: { min: 0, max: 255 },
  int16: { min: -32768, max: 32767 },
};

export function lowerQuantize(graph: Graph, node: QuantizeNode): KernelCall {
  const input = inputTensor(graph, node, 0);
  const output = outputTensor(graph, node);
  requireDtype(node, input, 'input', 'float32', 'int8', 'uint8', 'int16', 'int32');
  requireDtype(node, output, 'output', 'int8', 'uint8', 'int16');
  const range = RANGES[output.dtype]!;
  const p = quantizeParams(graph, node);
  const min = Math.max(range.min, p.clamp.min);
  const max = Math.min(range.max, p.clamp.max);
  const common = {
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    constants: [],
  };
  const types = { inputType: ctypeOf(input.dtype, node), outputType: ctypeOf(output.dtype, node) };
  if (p.kind === 'float') {
    return {
      ...common,
      template: 'te_quantize_f32',
      name: `te_quantize_f32_${suffix(output.dtype)}`,
      params: { ...types, count: elementCount(input.shape), scale: p.scale, zeroPoint: p.zeroPoint, halfEven: p.rounding === 'half-even', min, max },
    };
  }
  if (min > max) throw new NodeError(node.name, node.op, `clamp [${p.clamp.min}, ${p.clamp.max}] is empty for ${output.dtype}`);
  return {
    ...common,
    template: 'te_requantize',
    name: `te_requantize_${suffix(input.dtype)}_${suffix(output.dtype)}`,
    params: { ...types, count: elementCount(input.shape), ...p, min, max },
  };
}

export function lowerDequantize(graph: Graph, node: DequantizeNode): KernelCall {
  const input = inputTensor(graph, node, 0);
  const output = outputTensor(graph, node);
  requireDtype(node, input, 'input', 'int8', 'uint8', 'int16', 'int32');
  requireDtype(node, output, 'output', 'float32');
  const p = dequantizeParams(graph, node);
  return {
    template: 'te_dequantize',
    name: `te_dequantize_${suffix(input.dtype)}_f32`,
    // Up to 16 bits, (q - Z) * S is exact in float before its one rounding; int32 needs double to stay exact.
    params: { inputType: ctypeOf(input.dtype, node), count: elementCount(input.shape), scale: p.scale, zeroPoint: p.zeroPoint, wide: input.dtype === 'int32' },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    constants: [],
  };
}

function suffix(dtype: string): string {
  return { int8: 's8', uint8: 'u8', int16: 's16', int32: 's32', float32: 'f32' }[dtype] ?? dtype;
}
