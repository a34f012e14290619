/**
 * AveragePool2D / MaxPool2D -> te_avg_pool_s8 / te_max_pool_s8, in the input's quantized domain: the average counts
 * only the taps inside the image and rounds half away from zero; the window range is computed once per pixel.
 */
import { NodeError } from '../../errors.js';
import type { Graph, Pool2DNode } from '../../ir/types.js';
import { poolParams } from '../../quant/params.js';
import type { KernelCall } from '../kernel-call.js';
import { inputTensor, outputTensor, requireDtype, requireRank } from './common.js';

export function lowerPool(graph: Graph, node: Pool2DNode): KernelCall {
  const input = inputTensor(graph, node, 0);
  const output = outputTensor(graph, node);
  requireDtype(node, input, 'input', 'int8');
  requireDtype(node, output, 'output', 'int8');
  requireRank(node, input, 'input', 4);
  requireRank(node, output, 'output', 4);
  const { clamp } = poolParams(graph, node);
  const [batches, inH, inW, depth] = input.shape as [number, number, number, number];
  const [, outH, outW, outDepth] = output.shape as [number, number, number, number];
  if (outDepth !== depth) throw new NodeError(node.name, node.op, `input depth ${depth} and output depth ${outDepth} differ`);
  const [filterH, filterW] = node.attrs.filter;
  const [strideH, strideW] = node.attrs.stride;
  const { top, left } = node.attrs.padding;
  // A window entirely in the padding has no average (the reference rejects it too): refuse it at compile time.
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const y0 = oy * strideH - top;
      const x0 = ox * strideW - left;
      const rows = Math.min(filterH, inH - y0) - Math.max(0, -y0);
      const cols = Math.min(filterW, inW - x0) - Math.max(0, -x0);
      if (rows <= 0 || cols <= 0) throw new NodeError(node.name, node.op, `output (${oy}, ${ox}) has no input taps`);
    }
  }
  const average = node.op === 'AveragePool2D';
  return {
    template: 'te_pool_s8',
    name: average ? 'te_avg_pool_s8' : 'te_max_pool_s8',
    params: {
      average, batches, inH, inW, depth, outH, outW, filterH, filterW, strideH, strideW,
      padTop: top, padLeft: left, min: clamp.min, max: clamp.max,
    },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    constants: [],
  };
}
