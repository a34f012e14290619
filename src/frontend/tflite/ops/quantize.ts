/**
 * QUANTIZE (float32 -> int8, or int8 -> int8 between two scales; TFLite rounds half away from zero) and
 * DEQUANTIZE (int8 -> float32): the ops at the border of a model with a float interface.
 */
import type { DequantizeNode, QuantizeNode } from '../../../ir/types.js';
import { fullRange } from '../fused-activation.js';
import { type OperatorContext, Unsupported, requireInt8Activation } from './context.js';

export function importQuantize(context: OperatorContext): QuantizeNode {
  const input = context.input(0, 'input');
  if (input.dtype !== 'float32') requireInt8Activation(input, 'input');
  const output = requireInt8Activation(context.output(), 'output');
  return {
    op: 'Quantize',
    name: context.name,
    inputs: [input.name],
    outputs: [output.name],
    attrs: { clamp: fullRange(output.dtype), rounding: 'half-away' },
  };
}

export function importDequantize(context: OperatorContext): DequantizeNode {
  const input = requireInt8Activation(context.input(0, 'input'), 'input');
  const output = context.output();
  if (output.dtype !== 'float32') throw new Unsupported(`output '${output.name}' is ${output.dtype}, expected float32`);
  return { op: 'Dequantize', name: context.name, inputs: [input.name], outputs: [output.name], attrs: {} };
}
