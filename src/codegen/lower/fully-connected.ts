/**
 * FullyConnected -> te_fully_connected_s8: the input read as [batches, depth], one dot product per output channel.
 * With symmetric weights the input offset is folded into the bias (no padding here, so always exact).
 */
import { NodeError } from '../../errors.js';
import { elementCount } from '../../ir/graph.js';
import type { FullyConnectedNode, Graph } from '../../ir/types.js';
import { fullyConnectedParams } from '../../quant/params.js';
import type { KernelCall } from '../kernel-call.js';
import { foldInputOffsetIntoBias, outputStage, plainBias, symmetricWeights, weightedOperands } from './common.js';

export function lowerFullyConnected(graph: Graph, node: FullyConnectedNode): KernelCall {
  const { input, weights, output, weightData } = weightedOperands(graph, node, { input: null, weights: 2, output: null });
  const [outC, depth] = weights.shape as [number, number];
  const inputCount = elementCount(input.shape);
  if (inputCount % depth !== 0 || elementCount(output.shape) !== (inputCount / depth) * outC) {
    throw new NodeError(node.name, node.op, `input [${input.shape}], weights [${weights.shape}] and output [${output.shape}] do not fit`);
  }
  const params = fullyConnectedParams(graph, node);
  const stage = outputStage(params);
  const folded = symmetricWeights(params);
  const uniformWeightOffset = params.weightOffsets.every((o) => o === params.weightOffsets[0]);
  return {
    template: 'te_fully_connected_s8',
    name: 'te_fully_connected_s8',
    params: {
      batches: inputCount / depth,
      depth,
      outC,
      inputOffset: params.inputOffset,
      foldedBias: folded,
      uniformWeightOffset,
      weightOffset: params.weightOffsets[0] ?? 0,
      outputType: stage.params['int32Output'] ? 'int32_t' : 'int8_t',
      ...stage.params,
    },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    constants: [
      { role: 'weights', ctype: 'int8_t', values: weightData as Int8Array, describe: `weights [${weights.shape}]` },
      {
        role: 'bias',
        ctype: 'int32_t',
        values: folded ? foldInputOffsetIntoBias(node, params, weightData as Int8Array, depth) : plainBias(node, params, depth),
        describe: folded ? 'bias with the input offset folded in: bias[c] - Z_in * sum(w[c])' : 'bias',
      },
      ...(folded || uniformWeightOffset
        ? []
        : [{ role: 'weightOffsets', ctype: 'int32_t' as const, values: params.weightOffsets, describe: '-Z_w per output channel' }]),
      ...stage.constants,
    ],
  };
}
