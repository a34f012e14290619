/**
 * Conv2D on the DSP path -> dsp/te_conv2d_s8: every kernel size, stride, dilation and padding (groups 1,
 * symmetric int8 weights, int8 output), pointwise convolutions included.
 *
 * For a block of up to 3 output pixels the receptive fields are widened to int16 into scratch (a 1x1 convolution's
 * "receptive field" is just its input pixel, so this is no im2col copy but the one widening every input byte needs),
 * then a matrix product of 2 output channels x 3 pixels per step: per group of 4 taps 1 weight word pair, 4 SXTB16,
 * 3 column word pairs and 12 SMLADs for 24 multiply-accumulates.
 *
 * The reduction order: per kernel row, the taps that lie side by side in memory (a whole row of kW taps when the
 * dilation is 1, else each tap alone) form one run of bytes, padded to whole groups of 4 with zero weights; the
 * weights are laid out here in exactly the order the kernel reads them. Padding taps hold the input zero point,
 * which the input offset folded into the bias cancels, as in the portable kernel.
 */
import { tensorOf } from '../../../ir/graph.js';
import type { Conv2DNode, ElementwiseBinaryNode, Graph } from '../../../ir/types.js';
import { convParams } from '../../../quant/params.js';
import type { ConstantArray, KernelCall } from '../../kernel-call.js';
import { commentText } from '../../names.js';
import { foldInputOffsetIntoBias, symmetricWeights } from '../common.js';
import { addTableConstants, addTables, checkedAddParams } from './add.js';
import { blockView, int16Pair, interleaveRows, unrolledGroups, wordsOf } from './matmul.js';
import { accumulatorBounds, dspOutputStage } from './output-stage.js';

const BLOCK_PIXELS = 3;
/** Groups of 4 taps per loop iteration. */
const UNROLL = 4;

/** A residual Add computed in the convolution's output loop: which Add, and which of its inputs is the other one. */
export interface ResidualAdd {
  add: ElementwiseBinaryNode;
  /** The Add input that the convolution produces (0 or 1). */
  convPort: number;
  /** The other Add input, read by the fused kernel. */
  residual: string;
}

interface Segment {
  dx: number;
  taps: number;
  span: number;
  single: boolean;
  firstGroup: number;
  groupCount: number;
  fullWords: number;
  tailBytes: number;
  tailOffset: number;
  usedBytes: number;
  padBytes: number;
  alwaysInside: boolean;
  firstTap: number;
}

/** Whether the DSP kernel covers this convolution; the portable kernel takes the rest. */
export function dspConv2DApplies(graph: Graph, node: Conv2DNode): boolean {
  const input = tensorOf(graph, node.inputs[0]!);
  const weights = tensorOf(graph, node.inputs[1]!);
  const output = tensorOf(graph, node.outputs[0]!);
  if (input.dtype !== 'int8' || weights.dtype !== 'int8' || output.dtype !== 'int8' || !weights.data) return false;
  if (input.shape.length !== 4 || weights.shape.length !== 4 || output.shape.length !== 4) return false;
  if (input.shape[3] !== weights.shape[3]) return false; // grouped
  return symmetricWeights(convParams(graph, node));
}

export function lowerConv2DDsp(graph: Graph, node: Conv2DNode, residual?: ResidualAdd): KernelCall {
  const input = tensorOf(graph, node.inputs[0]!);
  const weights = tensorOf(graph, node.inputs[1]!);
  const output = tensorOf(graph, node.outputs[0]!);
  const weightData = weights.data as Int8Array;
  const [batches, inH, inW, inC] = input.shape as [number, number, number, number];
  const [outC, kH, kW] = weights.shape as [number, number, number, number];
  const [, outH, outW] = output.shape as [number, number, number, number];
  const { stride, dilation, padding } = node.attrs;
  const [strideH, strideW] = stride;
  const [dilationH, dilationW] = dilation;

  // Runs of adjacent taps in one kernel row, and where each lands in the reduction.
  const runs = dilationW === 1 ? [{ firstTap: 0, taps: kW }] : Array.from({ length: kW }, (_, kx) => ({ firstTap: kx, taps: 1 }));
  const insideRows = (dy: number) => range(outH).every((oy) => oy * strideH - padding.top + dy >= 0 && oy * strideH - padding.top + dy < inH);
  const insideRun = (dx: number, span: number) => range(outW).every((ox) => ox * strideW - padding.left + dx >= 0 && ox * strideW - padding.left + dx + span <= inW);
  let group = 0;
  const rows = range(kH).map((ky) => {
    const firstGroup = group;
    const segments: Segment[] = runs.map(({ firstTap, taps }) => {
      const bytes = taps * inC;
      const groupCount = Math.ceil(bytes / 4);
      const span = (taps - 1) * dilationW + 1;
      const dx = firstTap * dilationW;
      const segment: Segment = {
        dx, taps, span, single: taps === 1, firstGroup: group, groupCount,
        fullWords: Math.floor(bytes / 4), tailBytes: bytes % 4, tailOffset: Math.floor(bytes / 4) * 4,
        usedBytes: bytes, padBytes: groupCount * 4 - bytes, alwaysInside: insideRun(dx, span), firstTap,
      };
      group += groupCount;
      return segment;
    });
    return { ky, dy: ky * dilationH, firstGroup, groupCount: group - firstGroup, alwaysInside: insideRows(ky * dilationH), segments };
  });
  const kGroups = group;

  // Weights in reduction order, zero where a run was padded to a whole group.
  const patch = kH * kW * inC;
  const weightRows = range(outC).map((c) => {
    const bytes = new Int8Array(kGroups * 4);
    for (const row of rows) {
      for (const segment of row.segments) {
        for (let t = 0; t < segment.taps; t++) {
          const kx = segment.firstTap + t;
          const from = ((c * kH + row.ky) * kW + kx) * inC;
          bytes.set(weightData.subarray(from, from + inC), segment.firstGroup * 4 + t * inC);
        }
      }
    }
    return wordsOf(bytes);
  });

  const params = convParams(graph, node);
  const bias = foldInputOffsetIntoBias(node, params, weightData, patch);
  const bounds = accumulatorBounds(bias, outC, patch, (c, k) => weightData[c * patch + k]!);
  const stage = dspOutputStage(params, bounds);

  const pixels = batches * outH * outW;
  const blockPixels = Math.min(BLOCK_PIXELS, pixels);
  const groupStride = 2 * blockPixels;
  const tailPixels = pixels % blockPixels;
  const blockFor = (count: number) => ({
    pixelCount: count,
    pair: blockView(2, count, groupStride),
    single: outC % 2 === 1 ? blockView(1, count, groupStride) : false,
  });

  const residualView = residual ? residualEpilogue(graph, residual) : null;
  const inputZeroPoint = -params.inputOffset;
  return {
    template: 'dsp/te_conv2d_s8',
    name: residual ? 'te_conv2d_add_s8_dsp' : 'te_conv2d_s8_dsp',
    params: {
      batches, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW,
      padTop: padding.top, padLeft: padding.left,
      pixels, blockPixels, tailPixels, groupStride, kGroups, ...unrolledGroups(kGroups, UNROLL),
      channelPairs: Math.floor(outC / 2),
      rows,
      blocks: [blockFor(blockPixels), ...(tailPixels > 0 ? [blockFor(tailPixels)] : [])],
      inputZeroPoint,
      zeroPair: int16Pair(inputZeroPoint),
      stage: stage.view,
      residual: residualView ? residualView.view : false,
    },
    inputs: residual ? [node.inputs[0]!, residual.residual] : [node.inputs[0]!],
    outputs: [residual ? residual.add.outputs[0]! : node.outputs[0]!],
    // Output pixels may lie `outputPixelStride` apart (a channel slice of a zero-copy concatenation); the residual
    // input is read dense whatever that stride.
    stridedOutput: true,
    scratch: { bytes: kGroups * groupStride * 4, purpose: `${blockPixels} receptive fields widened to int16` },
    constants: [
      { role: 'weights', ctype: 'int32_t', values: interleaveRows(weightRows, 2), describe: `weights [${weights.shape}] (OHWI) as words in reduction order, channel pairs interleaved` },
      { role: 'bias', ctype: 'int32_t', values: bias, describe: 'bias with the input offset folded in: bias[c] - Z_in * sum(w[c])' },
      ...stage.constants,
      ...(residualView ? residualView.constants : []),
    ],
  };
}

/** The fused Add's tables: the convolution's own int8 output and the residual input, each rescaled. */
function residualEpilogue(graph: Graph, residual: ResidualAdd): { view: object; constants: ConstantArray[] } {
  const p = checkedAddParams(graph, residual.add);
  const { tables, stage } = addTables(p, residual.add.op === 'Sub');
  const convTable = tables[residual.convPort]!;
  const otherTable = tables[1 - residual.convPort]!;
  return {
    view: { comment: commentText(residual.add.name, 60), stage },
    constants: addTableConstants({ tables: [convTable, otherTable], stage }, ['residualConvTable', 'residualTable'], ['the convolution output', 'the residual input']),
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
