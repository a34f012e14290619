/**
 * Add / Sub of two same-shape int8 tensors on the DSP path -> dsp/te_add_s8: one table look-up per input (see
 * ./add.ts) and the output requantization per element. Broadcasting and constant operands stay portable.
 */
import { elementCount, tensorOf } from '../../../ir/graph.js';
import type { ElementwiseBinaryNode, Graph } from '../../../ir/types.js';
import { addParams } from '../../../quant/params.js';
import type { KernelCall } from '../../kernel-call.js';
import { addTableConstants, addTables, checkedAddParams } from './add.js';

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

export function dspAddApplies(graph: Graph, node: ElementwiseBinaryNode): boolean {
  if (node.op !== 'Add' && node.op !== 'Sub') return false;
  const output = tensorOf(graph, node.outputs[0]!);
  const operands = node.inputs.map((name) => tensorOf(graph, name));
  if (output.dtype !== 'int8' || operands.some((t) => t.dtype !== 'int8' || t.data !== undefined || !sameShape(t.shape, output.shape))) return false;
  const p = addParams(graph, node);
  return p.input1Shift <= 0 && p.input2Shift <= 0 && p.outputShift <= 0;
}

export function lowerAddDsp(graph: Graph, node: ElementwiseBinaryNode): KernelCall {
  const tables = addTables(checkedAddParams(graph, node), node.op === 'Sub');
  return {
    template: 'dsp/te_add_s8',
    name: node.op === 'Sub' ? 'te_sub_s8_dsp' : 'te_add_s8_dsp',
    params: { op: node.op, count: elementCount(tensorOf(graph, node.outputs[0]!).shape), stage: tables.stage },
    inputs: [node.inputs[0]!, node.inputs[1]!],
    outputs: [node.outputs[0]!],
    constants: addTableConstants(tables, ['table1', 'table2'], ['input 0', 'input 1']),
  };
}
