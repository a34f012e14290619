/** RESHAPE (also Flatten, Squeeze, Unsqueeze): the same elements in the same order under another shape. */
import { NodeError } from '../../errors.js';
import type { Graph, ReshapeNode, TensorData } from '../../ir/types.js';
import { allocateOutput, required, type KernelInputs } from './common.js';

export function reshape(graph: Graph, node: ReshapeNode, inputs: KernelInputs): TensorData[] {
  const x = required(node, inputs, 0, 'input');
  const output = allocateOutput(graph, node);
  if (output.length !== x.length || output.constructor !== x.constructor) {
    throw new NodeError(node.name, node.op, `cannot reshape ${x.length} elements into an output of ${output.length}`);
  }
  (output as Int8Array).set(x as Int8Array);
  return [output];
}
