/**
 * AveragePool2D on the DSP path -> dsp/te_avg_pool_s8: the window sums of 4 channels at a time in the int16 lanes
 * of two registers (SXTAB16 adds two sign-extended bytes to two lanes at once: 3 instructions per 4 taps), then the
 * same rounding division as the portable kernel. Windows of more than 255 taps could overflow a lane: portable.
 */
import { tensorOf } from '../../../ir/graph.js';
import type { Graph, Pool2DNode } from '../../../ir/types.js';
import { poolParams } from '../../../quant/params.js';
import type { KernelCall } from '../../kernel-call.js';

const MAX_LANE_TAPS = 255;

export function dspAveragePoolApplies(graph: Graph, node: Pool2DNode): boolean {
  const input = tensorOf(graph, node.inputs[0]!);
  const output = tensorOf(graph, node.outputs[0]!);
  return (
    node.op === 'AveragePool2D' && input.dtype === 'int8' && output.dtype === 'int8' && input.shape.length === 4 &&
    output.shape.length === 4 && node.attrs.filter[0] * node.attrs.filter[1] <= MAX_LANE_TAPS
  );
}

export function lowerAveragePoolDsp(graph: Graph, node: Pool2DNode): KernelCall {
  const input = tensorOf(graph, node.inputs[0]!);
  const output = tensorOf(graph, node.outputs[0]!);
  const { clamp } = poolParams(graph, node);
  const [batches, inH, inW, depth] = input.shape as [number, number, number, number];
  const [, outH, outW] = output.shape as [number, number, number, number];
  const [filterH, filterW] = node.attrs.filter;
  const [strideH, strideW] = node.attrs.stride;
  return {
    template: 'dsp/te_avg_pool_s8',
    name: 'te_avg_pool_s8_dsp',
    params: {
      batches, inH, inW, depth, outH, outW, filterH, filterW, strideH, strideW,
      padTop: node.attrs.padding.top, padLeft: node.attrs.padding.left,
      groups: Math.floor(depth / 4), tailChannels: depth % 4, min: clamp.min, max: clamp.max,
    },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    constants: [],
  };
}
