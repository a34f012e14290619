/**
 * Logistic, Tanh, HardSwish, Neg, Relu, Relu6, LeakyRelu -> te_lut_s8: every int8 -> int8 function is a 256-entry
 * table, taken from src/quant/params.ts (the very table the reference interpreter looks up), so bit-exactness is
 * by construction and the kernel is one load per element.
 */
import { elementCount } from '../../ir/graph.js';
import type { Graph, LeakyReluNode, UnaryNode } from '../../ir/types.js';
import { unaryLut } from '../../quant/params.js';
import type { KernelCall } from '../kernel-call.js';
import { inputTensor, outputTensor, requireDtype } from './common.js';

export function lowerUnary(graph: Graph, node: UnaryNode | LeakyReluNode): KernelCall {
  const input = inputTensor(graph, node, 0);
  const output = outputTensor(graph, node);
  requireDtype(node, input, 'input', 'int8');
  requireDtype(node, output, 'output', 'int8');
  return {
    template: 'te_lut_s8',
    name: `te_${node.op.replace(/[A-Z]/g, (c, i: number) => (i > 0 ? '_' : '') + c.toLowerCase())}_s8`,
    params: { op: node.op, count: elementCount(input.shape) },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    constants: [{ role: 'table', ctype: 'int8_t', values: unaryLut(graph, node), describe: `${node.op} output for input x at [x + 128]` }],
  };
}
