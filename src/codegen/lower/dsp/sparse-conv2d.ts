/**
 * Convolutions with a real kernel window (k x k, strided, dilated, padded) whose weights are mostly zero, on the
 * DSP path -> dsp/te_conv2d_sparse_kxk_s8. Pointwise ones take dsp/sparse.ts.
 *
 * For a block of up to 8 output pixels the receptive fields are copied side by side into scratch as bytes (padding
 * taps hold the input zero point, which the input offset folded into the bias cancels, as in the dense DSP kernel);
 * then per output channel the 'sparse-delta8' entries (src/codegen/lower/sparse.ts, rows in OHWI order = the order
 * of a copied receptive field) are walked once for the whole block: one delta, one pointer step and one weight serve
 * 8 multiply-accumulates (8 accumulators, the pointers and the weight still fit the Cortex-M4's registers: no spill in
 * the loop).
 *
 * Chosen over the dense DSP convolution only where its estimated instruction count is lower: a dense
 * multiply-accumulate (taps padded to whole groups of 4) costs about one instruction, a sparse entry about 2.7 per
 * pixel (a load and a MAC per pixel, delta, weight, pointer step and loop shared by 8); the receptive-field copy
 * costs about half an instruction per byte against about one for the dense kernel's widening copy; the per-output
 * work is the same. Exact: a skipped weight is 0, and 0 * x adds nothing.
 */
import { tensorOf } from '../../../ir/graph.js';
import type { Conv2DNode, Graph } from '../../../ir/types.js';
import { convParams } from '../../../quant/params.js';
import type { KernelCall } from '../../kernel-call.js';
import { foldInputOffsetIntoBias } from '../common.js';
import { encodedBytes, encodeSparse, sparseCountType } from '../sparse.js';
import { dspConv2DApplies } from './conv2d.js';
import { accumulatorBounds, dspOutputStage } from './output-stage.js';

const BLOCK_PIXELS = 8;
/** Estimated instructions: per dense multiply-accumulate, per sparse entry and pixel, per output, per copied byte. */
const DENSE_MAC = 1.0;
const SPARSE_ENTRY = 2.7;
const PER_OUTPUT = 8;
const DENSE_GATHER_BYTE = 1.0;
const SPARSE_GATHER_BYTE = 0.5;

/** The sparse k x k DSP kernel, or null where the dense one is expected to be faster (or does not apply). */
export function lowerSparseConv2DDsp(graph: Graph, node: Conv2DNode): KernelCall | null {
  if (!dspConv2DApplies(graph, node)) return null;
  const input = tensorOf(graph, node.inputs[0]!);
  const weights = tensorOf(graph, node.inputs[1]!);
  const output = tensorOf(graph, node.outputs[0]!);
  const weightData = weights.data as Int8Array;
  const [batches, inH, inW, inC] = input.shape as [number, number, number, number];
  const [outC, kH, kW] = weights.shape as [number, number, number, number];
  const [, outH, outW] = output.shape as [number, number, number, number];
  const { stride, dilation, padding } = node.attrs;
  const patch = kH * kW * inC;
  const encoding = encodeSparse(weightData, patch, () => 0);
  if (!encoding) return null;

  const entries = encoding.values.length;
  const pixels = batches * outH * outW;
  // The dense kernel's reduction: per kernel row one run of kW taps (dilation 1) or kW single taps, padded to groups of 4.
  const denseGroups = kH * (dilation[1] === 1 ? Math.ceil((kW * inC) / 4) : kW * Math.ceil(inC / 4));
  const dense = pixels * (outC * denseGroups * 4 * DENSE_MAC + outC * PER_OUTPUT + denseGroups * 4 * DENSE_GATHER_BYTE);
  const sparse = pixels * (entries * SPARSE_ENTRY + outC * PER_OUTPUT + patch * SPARSE_GATHER_BYTE);
  if (sparse >= dense) return null;

  const params = convParams(graph, node);
  const bias = foldInputOffsetIntoBias(node, params, weightData, patch);
  const stage = dspOutputStage(params, accumulatorBounds(bias, outC, patch, (c, k) => weightData[c * patch + k]!));
  const blockPixels = Math.min(BLOCK_PIXELS, pixels);
  const tailPixels = pixels % blockPixels;
  const block = (count: number) => ({ pixelCount: count, pixels: Array.from({ length: count }, (_, j) => ({ j })) });
  const countType = sparseCountType(encoding);
  return {
    template: 'dsp/te_conv2d_sparse_kxk_s8',
    name: 'te_conv2d_sparse_s8_dsp',
    params: {
      batches, inH, inW, inC, outH, outW, outC, kH, kW,
      strideH: stride[0], strideW: stride[1], dilationH: dilation[0], dilationW: dilation[1],
      padTop: padding.top, padLeft: padding.left,
      patch, pixels, entries, denseWeights: weightData.length,
      blockPixels, tailPixels,
      blocks: [block(blockPixels), ...(tailPixels > 0 ? [block(tailPixels)] : [])],
      inputZeroPoint: -params.inputOffset,
      stage: stage.view,
      residual: false,
    },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    // Output pixels may lie `outputPixelStride` apart (a channel slice of a zero-copy concatenation).
    stridedOutput: true,
    scratch: { bytes: blockPixels * patch, purpose: `${blockPixels} receptive fields` },
    constants: [
      { role: 'counts', ctype: countType, values: encoding.counts, describe: `non-zero weights per output channel (${entries} entries for ${weightData.length} weights)` },
      { role: 'deltas', ctype: 'uint8_t', values: encoding.deltas, describe: 'taps from the previous entry (sparse-delta8)' },
      { role: 'values', ctype: 'int8_t', values: encoding.values, describe: 'the non-zero weights, channel after channel' },
      { role: 'bias', ctype: 'int32_t', values: bias, describe: 'bias with the input offset folded in: bias[c] - Z_in * sum(w[c])' },
      ...stage.constants,
    ],
    weights: { format: 'sparse-delta8', bytes: encodedBytes(encoding, countType === 'uint8_t' ? 1 : 2), denseBytes: weightData.length, sparsity: encoding.zeros / encoding.elements },
  };
}
