/**
 * Softmax -> te_softmax_s8 over the last axis. exp(beta * S_in * (x - max)) depends only on x - max, one of 256
 * values: the table holds it (Q0.31), computed with the same fixed-point functions the reference calls, 0 below
 * diffMin (a 0 adds nothing to the sum and yields the output -128, as the reference's explicit test does).
 * The reciprocal of the sum and the output scaling run in C.
 */
import { elementCount } from '../../ir/graph.js';
import type { Graph, SoftmaxNode } from '../../ir/types.js';
import { expOnNegativeValues, multiplyByQuantizedMultiplierGreaterThanOne } from '../../quant/fixedpoint.js';
import { softmaxParams, type SoftmaxParams } from '../../quant/params.js';
import type { KernelCall } from '../kernel-call.js';
import { inputTensor, outputTensor, requireDtype } from './common.js';

const SCALED_DIFF_INTEGER_BITS = 5;

export function lowerSoftmax(graph: Graph, node: SoftmaxNode): KernelCall {
  const input = inputTensor(graph, node, 0);
  const output = outputTensor(graph, node);
  requireDtype(node, input, 'input', 'int8');
  requireDtype(node, output, 'output', 'int8');
  const p = softmaxParams(graph, node);
  const depth = input.shape[input.shape.length - 1] ?? 1;
  return {
    template: 'te_softmax_s8',
    name: 'te_softmax_s8',
    params: { rows: elementCount(input.shape) / depth, depth },
    usesReciprocal: true,
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    constants: [{ role: 'exp', ctype: 'int32_t', values: expTable(p), describe: 'exp(x - max) in Q0.31, indexed by max - x' }],
  };
}

/** Entry d: the reference's exp of the difference -d (d in [0, 255]), or 0 where the reference skips it. */
function expTable(p: SoftmaxParams): Int32Array {
  const table = new Int32Array(256);
  for (let d = 0; d < 256; d++) {
    const diff = -d;
    table[d] =
      diff >= p.diffMin
        ? expOnNegativeValues(multiplyByQuantizedMultiplierGreaterThanOne(diff, p.inputMultiplier, p.inputLeftShift), SCALED_DIFF_INTEGER_BITS)
        : 0;
  }
  return table;
}
