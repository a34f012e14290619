/**
 * DepthwiseConv2D -> te_depthwise_conv2d_s8: per output pixel and channel, a sum over the taps inside the image
 * (their range computed once per pixel), so no scratch is needed. Output channel c * M + m reads input channel c.
 */
import { NodeError } from '../../errors.js';
import type { DepthwiseConv2DNode, Graph } from '../../ir/types.js';
import { convParams } from '../../quant/params.js';
import type { KernelCall } from '../kernel-call.js';
import { outputStage, plainBias, weightedOperands } from './common.js';

export function lowerDepthwiseConv2D(graph: Graph, node: DepthwiseConv2DNode): KernelCall {
  const { input, weights, output, weightData } = weightedOperands(graph, node, { input: 4, weights: 4, output: 4 });
  const [batches, inH, inW, inC] = input.shape as [number, number, number, number];
  const [one, kH, kW, outC] = weights.shape as [number, number, number, number];
  const [, outH, outW, outDepth] = output.shape as [number, number, number, number];
  const multiplier = node.attrs.depthMultiplier;
  if (one !== 1 || outC !== inC * multiplier || outDepth !== outC) {
    throw new NodeError(node.name, node.op, `input depth ${inC} x multiplier ${multiplier}, weights [${weights.shape}] and output depth ${outDepth} do not match`);
  }
  const params = convParams(graph, node);
  const stage = outputStage(params);
  const uniformWeightOffset = params.weightOffsets.every((o) => o === params.weightOffsets[0]);
  const { stride, dilation, padding } = node.attrs;
  return {
    template: 'te_depthwise_conv2d_s8',
    name: 'te_depthwise_conv2d_s8',
    params: {
      batches, inH, inW, inC, outH, outW, outC, kH, kW, depthMultiplier: multiplier,
      strideH: stride[0], strideW: stride[1], dilationH: dilation[0], dilationW: dilation[1],
      padTop: padding.top, padLeft: padding.left,
      inputOffset: params.inputOffset,
      uniformWeightOffset,
      weightOffset: params.weightOffsets[0] ?? 0,
      outputType: stage.params['int32Output'] ? 'int32_t' : 'int8_t',
      ...stage.params,
    },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    constants: [
      { role: 'weights', ctype: 'int8_t', values: weightData as Int8Array, describe: `weights [${weights.shape}] (1HWC)` },
      { role: 'bias', ctype: 'int32_t', values: plainBias(node, params, kH * kW), describe: 'bias' },
      ...(uniformWeightOffset ? [] : [{ role: 'weightOffsets', ctype: 'int32_t' as const, values: params.weightOffsets, describe: '-Z_w per output channel' }]),
      ...stage.constants,
    ],
  };
}
