/**
 * SOFTMAX int8 -> int8 over the last axis (reference_ops::Softmax, quantized; CMSIS-NN arm_softmax_s8 matches it):
 * exp(beta * S_in * (x - max)) in gemmlowp fixed point (Q5.26 in, Q0.31 out), summed in Q12.19, multiplied by the
 * fixed-point reciprocal of the sum, output in units of 1/256 offset by -128.
 */
import type { Graph, SoftmaxNode, TensorData } from '../../ir/types.js';
import {
  expOnNegativeValues,
  multiplyByQuantizedMultiplierGreaterThanOne,
  reciprocal,
  rescaleFixedPoint,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from '../../quant/fixedpoint.js';
import { softmaxParams, type SoftmaxParams } from '../../quant/params.js';
import { allocateInt8Output, inputTensor, numbers, required, type KernelInputs } from './common.js';

const SCALED_DIFF_INTEGER_BITS = 5;
const ACCUMULATION_INTEGER_BITS = 12;

export function softmax(graph: Graph, node: SoftmaxNode, inputs: KernelInputs): TensorData[] {
  const p = softmaxParams(graph, node);
  const shape = inputTensor(graph, node, 0).shape;
  const depth = shape[shape.length - 1] ?? 1;
  const x = numbers(required(node, inputs, 0, 'input'));
  const output = allocateInt8Output(graph, node);
  for (let row = 0; row < x.length; row += depth) softmaxRow(p, x, output, row, depth);
  return [output];
}

function softmaxRow(p: SoftmaxParams, x: ArrayLike<number>, output: Int8Array, start: number, depth: number): void {
  let max = -128;
  for (let c = 0; c < depth; c++) if (x[start + c]! > max) max = x[start + c]!;

  const expOf = (value: number): number =>
    expOnNegativeValues(multiplyByQuantizedMultiplierGreaterThanOne(value - max, p.inputMultiplier, p.inputLeftShift), SCALED_DIFF_INTEGER_BITS);

  let sumOfExps = 0;
  for (let c = 0; c < depth; c++) {
    if (x[start + c]! - max >= p.diffMin) {
      sumOfExps = (sumOfExps + rescaleFixedPoint(expOf(x[start + c]!), 0, ACCUMULATION_INTEGER_BITS)) | 0;
    }
  }
  const { scale, bitsOverUnit } = reciprocal(sumOfExps, ACCUMULATION_INTEGER_BITS);
  const exponent = bitsOverUnit + 31 - 8;

  for (let c = 0; c < depth; c++) {
    if (x[start + c]! - max >= p.diffMin) {
      const unsaturated = roundingDivideByPOT(saturatingRoundingDoublingHighMul(scale, expOf(x[start + c]!)), exponent);
      const shifted = unsaturated - 128;
      output[start + c] = shifted < -128 ? -128 : shifted > 127 ? 127 : shifted;
    } else {
      output[start + c] = -128;
    }
  }
}
