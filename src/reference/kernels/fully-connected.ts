/**
 * FULLY_CONNECTED (reference_integer_ops::FullyConnected / FullyConnectedPerChannel): the input is read as
 * [batch, Cin] whatever its shape; weights [Cout, Cin]; output [batch, Cout].
 */
import { NodeError } from '../../errors.js';
import { elementCount } from '../../ir/graph.js';
import type { FullyConnectedNode, Graph, TensorData } from '../../ir/types.js';
import { fullyConnectedParams } from '../../quant/params.js';
import { allocateOutput, inputTensor, numbers, required, type KernelInputs } from './common.js';
import { finishAccumulator } from './conv2d.js';

export function fullyConnected(graph: Graph, node: FullyConnectedNode, inputs: KernelInputs): TensorData[] {
  const p = fullyConnectedParams(graph, node);
  const weights = inputTensor(graph, node, 1);
  if (weights.shape.length !== 2) {
    throw new NodeError(node.name, node.op, `weights '${weights.name}' must be [Cout, Cin], have shape [${weights.shape.join(', ')}]`);
  }
  const [outC, depth] = weights.shape as [number, number];
  const x = numbers(required(node, inputs, 0, 'input'));
  const w = numbers(required(node, inputs, 1, 'weights'));
  const inputCount = elementCount(inputTensor(graph, node, 0).shape);
  if (inputCount % depth !== 0) {
    throw new NodeError(node.name, node.op, `input has ${inputCount} elements, not a multiple of the weights' depth ${depth}`);
  }
  const batches = inputCount / depth;
  const output = allocateOutput(graph, node) as Int8Array | Int32Array;
  if (output.length !== batches * outC) {
    throw new NodeError(node.name, node.op, `output has ${output.length} elements, expected ${batches} x ${outC}`);
  }
  const inputOffset = p.inputOffset;
  for (let b = 0; b < batches; b++) {
    const xBase = b * depth;
    for (let oc = 0; oc < outC; oc++) {
      const wBase = oc * depth;
      const weightOffset = p.weightOffsets[oc]!;
      let acc = 0;
      for (let d = 0; d < depth; d++) acc = (acc + (w[wBase + d]! + weightOffset) * (x[xBase + d]! + inputOffset)) | 0;
      output[b * outC + oc] = finishAccumulator(p, oc, acc);
    }
  }
  return [output];
}
