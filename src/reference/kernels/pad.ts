/**
 * PAD with a constant: attrs.value is the quantized pad value (the input zero point, the real 0, unless the model
 * gives another). Negative amounts crop.
 */
import { NodeError } from '../../errors.js';
import { stridesOf } from '../../ir/graph.js';
import type { Graph, PadNode, TensorData } from '../../ir/types.js';
import { allocateOutput, inputTensor, outputTensor, required, type KernelInputs } from './common.js';

export function pad(graph: Graph, node: PadNode, inputs: KernelInputs): TensorData[] {
  const x = required(node, inputs, 0, 'input') as Int8Array;
  const shape = inputTensor(graph, node, 0).shape;
  const outShape = outputTensor(graph, node).shape;
  const { before, after, value } = node.attrs;
  const rank = shape.length;
  if (before.length !== rank || after.length !== rank || outShape.some((d, i) => d !== shape[i]! + before[i]! + after[i]!)) {
    throw new NodeError(node.name, node.op, `pads [${before}] / [${after}] do not turn [${shape}] into [${outShape}]`);
  }
  const output = allocateOutput(graph, node) as Int8Array;
  output.fill(value);
  const outStrides = stridesOf(outShape);
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < x.length; i++) {
    let target = 0;
    let inside = true;
    for (let axis = 0; axis < rank; axis++) {
      const o = index[axis]! + before[axis]!;
      if (o < 0 || o >= outShape[axis]!) {
        inside = false;
        break;
      }
      target += o * outStrides[axis]!;
    }
    if (inside) output[target] = x[i]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      if (++index[axis]! < shape[axis]!) break;
      index[axis] = 0;
    }
  }
  return [output];
}
