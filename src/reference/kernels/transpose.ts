/** TRANSPOSE: output axis i is input axis perm[i]. */
import { NodeError } from '../../errors.js';
import { stridesOf } from '../../ir/graph.js';
import type { Graph, TensorData, TransposeNode } from '../../ir/types.js';
import { allocateOutput, inputTensor, required, type KernelInputs } from './common.js';

export function transpose(graph: Graph, node: TransposeNode, inputs: KernelInputs): TensorData[] {
  const x = required(node, inputs, 0, 'input') as Int8Array;
  const shape = inputTensor(graph, node, 0).shape;
  const perm = node.attrs.perm;
  const rank = shape.length;
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new NodeError(node.name, node.op, `perm [${perm.join(', ')}] is not a permutation of ${rank} axes`);
  }
  const output = allocateOutput(graph, node) as Int8Array;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = stridesOf(shape);
  // Walking the output in order, each output axis advances the input by the stride of the axis it came from.
  const strides = perm.map((p) => inStrides[p]!);
  const index = new Array<number>(rank).fill(0);
  let source = 0;
  for (let i = 0; i < output.length; i++) {
    output[i] = x[source]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]!++;
      source += strides[axis]!;
      if (index[axis]! < outShape[axis]!) break;
      source -= strides[axis]! * outShape[axis]!;
      index[axis] = 0;
    }
  }
  return [output];
}
