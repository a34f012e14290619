/**
 * Pointwise convolutions and fully connected layers whose weights are mostly zero, on the DSP path ->
 * dsp/te_conv2d_sparse_s8: the weights in src/codegen/lower/sparse.ts's 'sparse-delta8' format (non-zero weights
 * only, each with its distance from the previous one), walked once for a block of up to 4 pixels, so that one
 * delta and one weight serve 4 multiply-accumulates; then the DSP output stage.
 *
 * Chosen over the dense DSP kernel when its estimated instruction count is lower: a dense multiply-accumulate costs
 * about one instruction, a sparse entry about 3.3 per pixel (its delta, pointer step and weight shared by the
 * block, one load and one MLA per pixel), and the per-output work is about the same. Exact: a skipped weight is 0,
 * and 0 * x adds nothing.
 */
import { elementCount, tensorOf } from '../../../ir/graph.js';
import type { Conv2DNode, FullyConnectedNode, Graph } from '../../../ir/types.js';
import { convParams, fullyConnectedParams } from '../../../quant/params.js';
import type { KernelCall } from '../../kernel-call.js';
import { foldInputOffsetIntoBias, symmetricWeights } from '../common.js';
import { encodedBytes, encodeSparse } from '../sparse.js';
import { accumulatorBounds, dspOutputStage } from './output-stage.js';

const BLOCK_PIXELS = 4;
/** Estimated instructions: per dense multiply-accumulate, per sparse entry and pixel, per output. */
const DENSE_MAC = 1.0;
const SPARSE_ENTRY = 3.3;
const PER_OUTPUT = 8;

/** Rows of a pointwise convolution or fully connected layer: pixels (or batch rows) x [depth] -> [outC]. */
function matrixShape(graph: Graph, node: Conv2DNode | FullyConnectedNode): { pixels: number; depth: number; outC: number } | null {
  const input = tensorOf(graph, node.inputs[0]!);
  const weights = tensorOf(graph, node.inputs[1]!);
  const output = tensorOf(graph, node.outputs[0]!);
  if (input.dtype !== 'int8' || weights.dtype !== 'int8' || output.dtype !== 'int8' || !weights.data) return null;
  if (node.op === 'FullyConnected') {
    if (weights.shape.length !== 2) return null;
    const [outC, depth] = weights.shape as [number, number];
    const count = elementCount(input.shape);
    if (count % depth !== 0 || elementCount(output.shape) !== (count / depth) * outC) return null;
    return symmetricWeights(fullyConnectedParams(graph, node)) ? { pixels: count / depth, depth, outC } : null;
  }
  const { stride, padding } = node.attrs;
  const [outC, kH, kW, inC] = weights.shape as [number, number, number, number];
  const pointwise =
    input.shape.length === 4 && kH === 1 && kW === 1 && inC === input.shape[3] && stride[0] === 1 && stride[1] === 1 &&
    padding.top === 0 && padding.bottom === 0 && padding.left === 0 && padding.right === 0 && output.shape[1] === input.shape[1] && output.shape[2] === input.shape[2];
  if (!pointwise || !symmetricWeights(convParams(graph, node))) return null;
  return { pixels: elementCount(output.shape) / outC, depth: inC, outC };
}

/** The sparse DSP kernel, or null where the dense one is expected to be faster (or the layer is not a matrix product). */
export function lowerSparseDsp(graph: Graph, node: Conv2DNode | FullyConnectedNode): KernelCall | null {
  const shape = matrixShape(graph, node);
  if (!shape) return null;
  const { pixels, depth, outC } = shape;
  const weightData = tensorOf(graph, node.inputs[1]!).data as Int8Array;
  const encoding = encodeSparse(weightData, depth, () => 0);
  if (!encoding) return null;
  const entries = encoding.values.length;
  const dense = pixels * (outC * Math.ceil(depth / 4) * 4 * DENSE_MAC + outC * PER_OUTPUT);
  const sparse = pixels * (entries * SPARSE_ENTRY + outC * PER_OUTPUT);
  if (sparse >= dense) return null;

  const params = node.op === 'FullyConnected' ? fullyConnectedParams(graph, node) : convParams(graph, node);
  const bias = foldInputOffsetIntoBias(node, params, weightData, depth);
  const stage = dspOutputStage(params, accumulatorBounds(bias, outC, depth, (c, k) => weightData[c * depth + k]!));
  const blockPixels = Math.min(BLOCK_PIXELS, pixels);
  const tailPixels = pixels % blockPixels;
  const block = (count: number) => ({ pixelCount: count, pixels: Array.from({ length: count }, (_, j) => ({ j })) });
  const fullyConnected = node.op === 'FullyConnected';
  return {
    template: 'dsp/te_conv2d_sparse_s8',
    name: fullyConnected ? 'te_fully_connected_sparse_s8_dsp' : 'te_conv2d_1x1_sparse_s8_dsp',
    params: {
      op: fullyConnected ? 'FullyConnected' : 'Conv2D 1x1',
      pixels, depth, outC, entries, denseWeights: weightData.length,
      blockPixels, tailPixels,
      blocks: [block(blockPixels), ...(tailPixels > 0 ? [block(tailPixels)] : [])],
      stage: stage.view,
      residual: false,
    },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    constants: [
      { role: 'counts', ctype: 'uint16_t', values: encoding.counts, describe: `non-zero weights per output channel (${entries} entries for ${weightData.length} weights)` },
      { role: 'deltas', ctype: 'uint8_t', values: encoding.deltas, describe: 'inputs from the previous entry (sparse-delta8)' },
      { role: 'values', ctype: 'int8_t', values: encoding.values, describe: 'the non-zero weights, channel after channel' },
      { role: 'bias', ctype: 'int32_t', values: bias, describe: 'bias with the input offset folded in: bias[c] - Z_in * sum(w[c])' },
      ...stage.constants,
    ],
    weights: { format: 'sparse-delta8', bytes: encodedBytes(encoding), denseBytes: weightData.length, sparsity: encoding.zeros / encoding.elements },
  };
}
