/**
 * depthwise-as-conv: a depthwise convolution of a single input channel (MobileNet-style first layers written as
 * DepthwiseConv2D with a channel multiplier, like TFLite-Micro's person_detect) is an ordinary convolution with one
 * input channel and `multiplier` filters, and becomes one. Depthwise kernels are built for many channels with one
 * filter each; a convolution kernel runs one channel with many filters well (on the DSP path: one gathered receptive
 * field used by every filter).
 *
 * Why it is safe: output channel m of the depthwise convolution is sum_taps x[tap] * w[0, ky, kx, m] + b[m],
 * requantized with channel m's multiplier; the convolution with weights w'[m, ky, kx, 0] = w[0, ky, kx, m] computes
 * the same integer sum (exact int32 arithmetic: the order of the terms does not matter) and the same requantization,
 * since both ops derive their per-channel multipliers from the same scales (src/quant/params.ts, convParams). The
 * per-channel quantization moves from the weights' axis 3 to axis 0 with the channels.
 */
import { tensorOf } from '../ir/graph.js';
import type { Conv2DNode, Graph, Tensor } from '../ir/types.js';
import { GraphEdit, type PassResult } from './graph-edit.js';

export function depthwiseAsConv(graph: Graph): PassResult {
  const edit = new GraphEdit(graph);
  for (const node of graph.nodes) {
    if (node.op !== 'DepthwiseConv2D') continue;
    const input = tensorOf(graph, node.inputs[0]!);
    const weights = tensorOf(graph, node.inputs[1]!);
    if (input.shape.length !== 4 || input.shape[3] !== 1 || weights.shape.length !== 4 || !(weights.data instanceof Int8Array)) continue;
    const [, kh, kw, filters] = weights.shape as [number, number, number, number];
    const data = new Int8Array(weights.data.length);
    for (let m = 0; m < filters; m++) {
      for (let tap = 0; tap < kh * kw; tap++) data[m * kh * kw + tap] = weights.data[tap * filters + m]!;
    }
    const reordered: Tensor = {
      ...weights,
      name: edit.uniqueTensorName(`${weights.name}/as_conv`),
      shape: [filters, kh, kw, 1],
      data,
      ...(weights.quant ? { quant: { ...weights.quant, axis: 0 } } : {}),
    };
    edit.setTensor(reordered);
    const { stride, dilation, padding, clamp } = node.attrs;
    const conv: Conv2DNode = {
      op: 'Conv2D',
      name: node.name,
      inputs: [node.inputs[0]!, reordered.name, ...node.inputs.slice(2)],
      outputs: node.outputs,
      attrs: { stride, dilation, padding, groups: 1, clamp },
    };
    edit.replaceNode(node, conv);
    edit.note(`DepthwiseConv2D '${node.name}' of one input channel x ${filters} is a Conv2D with ${filters} filters`);
  }
  return edit.result();
}
