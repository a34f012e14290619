/** Small activation graphs for the planner's tests: int8 vectors of given sizes joined by Relu and Add nodes. */
import type { Graph, Node, Tensor } from '../../../src/ir/types.js';
import { quant, tensor } from '../../codegen/support/layers.js';

const q = quant(0.05, 0);

export function relu(name: string, input: string, output: string): Node {
  return { op: 'Relu', name, inputs: [input], outputs: [output], attrs: {} };
}

export function add(name: string, a: string, b: string, output: string): Node {
  return { op: 'Add', name, inputs: [a, b], outputs: [output], attrs: { clamp: { min: -128, max: 127 } } };
}

export function graphOf(tensors: Tensor[], nodes: Node[], inputs: string[], outputs: string[]): Graph {
  return {
    name: 'g',
    format: 'tflite',
    tensors: new Map(tensors.map((t) => [t.name, t])),
    nodes,
    inputs: inputs.map((t) => ({ tensor: t, externalDtype: 'int8', name: t })),
    outputs: outputs.map((t) => ({ tensor: t, externalDtype: 'int8', name: t })),
    unsupported: [],
  };
}

/** A graph of int8 vectors named and sized by `sizes`, read from 'in' and answering `output`. */
export function sizedGraph(sizes: Record<string, number>, nodes: Node[], output = 'out'): Graph {
  return graphOf(Object.entries(sizes).map(([name, size]) => tensor(name, [size], 'int8', q)), nodes, ['in'], [output]);
}
