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
 *
 * Code size: a layer's own code is its gather (k x k kernels only: its taps and padding tests stay compile-time), a
 * const struct of its shapes and constant arrays, and a one-line wrapper. The pixel loop (one for pointwise layers,
 * one for the others) and the block functions are shared (KernelCall.shared): one block function per form, the form
 * being what the inner loop and the output stage must know at compile time (see blockFunction); the pixels of a
 * last, shorter block go one by one through the form's 1-pixel function, so no store tests a run-time count.
 */
import { tensorOf } from '../../../ir/graph.js';
import type { Conv2DNode, ElementwiseBinaryNode, Graph } from '../../../ir/types.js';
import { convParams } from '../../../quant/params.js';
import type { ConstantArray, InPlaceOption, KernelCall, SharedFunction } from '../../kernel-call.js';
import { commentText } from '../../names.js';
import { foldInputOffsetIntoBias, symmetricWeights } from '../common.js';
import { addTableConstants, addTables, checkedAddParams } from './add.js';
import { blockView, int16Pair, interleaveRows, unrolledGroups, wordsOf } from './matmul.js';
import { accumulatorBounds, dspOutputStage, type DspOutputStage } from './output-stage.js';

const BLOCK_PIXELS = 3;
/**
 * Groups of 4 taps per loop iteration; twice that where the group count is a multiple of 8 from 16 on (the loop's
 * overhead halved where it runs often; smaller layers keep sharing the shorter function).
 */
const UNROLL = 4;
const UNROLL_WIDE = 8;

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
  // The shared functions read channel counts, groups of taps and output sizes as int16 (te_conv2d_s8_layer).
  const [outC, kH, kW, inC] = weights.shape as [number, number, number, number];
  const int16 = (n: number) => n <= 0x7fff;
  if (![outC, inC, kH * kW * Math.ceil(inC / 4), output.shape[1]!, output.shape[2]!, ...node.attrs.stride, ...Object.values(node.attrs.padding)].every(int16)) return false;
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
  const unrolled = unrolledGroups(kGroups, kGroups >= 2 * UNROLL_WIDE && kGroups % UNROLL_WIDE === 0 ? UNROLL_WIDE : UNROLL);
  const pointwise = kH === 1 && kW === 1 && strideH === 1 && strideW === 1 && Object.values(padding).every((pad) => pad === 0);

  const residualView = residual ? residualEpilogue(graph, residual) : null;
  const onePass = kGroups < UNROLL;
  const form = { unroll: unrolled.unroll.length, remainder: unrolled.remainder.length > 0, onePass, stage: stage.view, residualStage: residualView?.view.stage ?? null, oddChannels: outC % 2 === 1 };
  const block = blockFunction(blockPixels, groupStride, form);
  // The pixels of a last, shorter block one at a time, from the same columns: no store needs a run-time test. They
  // are at most 2 pixels a layer, so their function loops over single groups (one per form whatever the group count).
  const tail = tailPixels > 0 ? blockFunction(1, groupStride, onePass ? form : { ...form, unroll: 1, remainder: false }) : null;
  const driver: SharedFunction = pointwise
    ? { template: 'dsp/te_conv2d_s8_pointwise', key: 'te_conv2d_s8_dsp_pointwise', params: {} }
    : { template: 'dsp/te_conv2d_s8_pixels', key: 'te_conv2d_s8_dsp_pixels', params: {} };
  const scratch = { bytes: kGroups * groupStride * 4, purpose: `${blockPixels} receptive fields widened to int16` };
  const inputZeroPoint = -params.inputOffset;
  return {
    template: 'dsp/te_conv2d_s8',
    name: residual ? 'te_conv2d_add_s8_dsp' : 'te_conv2d_s8_dsp',
    params: {
      batches, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, dilationH, dilationW,
      padTop: padding.top, padLeft: padding.left,
      pixels, blockPixels, tailPixels, groupStride, kGroups, ...unrolled,
      pointwise,
      rows,
      inputZeroPoint,
      zeroPair: int16Pair(inputZeroPoint),
      stage: stage.view,
      residual: residualView ? residualView.view : false,
      blockKey: block.key,
      tailKey: tail ? tail.key : false,
      driverKey: driver.key,
    },
    inputs: residual ? [node.inputs[0]!, residual.residual] : [node.inputs[0]!],
    outputs: [residual ? residual.add.outputs[0]! : node.outputs[0]!],
    // Output pixels may lie `outputPixelStride` apart (a channel slice of a zero-copy concatenation); the residual
    // input is read dense whatever that stride.
    stridedOutput: true,
    scratch,
    inPlace: inPlaceOptions(node, residual, pointwise, inC, outC, scratch),
    shared: [LAYER_TYPES, block, ...(tail ? [tail] : []), driver],
    constants: [
      { role: 'weights', ctype: 'int32_t', values: interleaveRows(weightRows, 2), describe: `weights [${weights.shape}] (OHWI) as words in reduction order, channel pairs interleaved` },
      { role: 'bias', ctype: 'int32_t', values: bias, describe: 'bias with the input offset folded in: bias[c] - Z_in * sum(w[c])' },
      ...stageConstants(stage),
      ...(residualView ? residualView.constants : []),
    ],
  };
}

/** The layer struct the shared functions read (templates/kernels/dsp/te_conv2d_s8_layer.c.hbs), declared once. */
const LAYER_TYPES: SharedFunction = { template: 'dsp/te_conv2d_s8_layer', key: 'te_conv2d_dsp_layer_t', params: {} };

interface BlockForm {
  unroll: number;
  /** Groups left over after the unrolled ones (kGroups % unroll > 0): one more loop. */
  remainder: boolean;
  /** Fewer groups than UNROLL: every layer of the form has exactly `unroll` groups, computed without a loop. */
  onePass: boolean;
  stage: DspOutputStage['view'];
  residualStage: DspOutputStage['view'] | null;
  oddChannels: boolean;
}

/**
 * The block function of a form: what must be compile-time for the inner loop and the output stage to stay as fast
 * as a layer's own (pixels, group stride, unroll and remainder, requantization form, the residual Add's form, an odd
 * last channel); shapes and constant arrays are read from the layer.
 */
function blockFunction(pixelCount: number, groupStride: number, form: BlockForm): SharedFunction {
  const formOf = (s: DspOutputStage['view']) => ({ fast: s.fast, wide: s.wide, perChannel: s.perChannel, fullRange: s.fullRange });
  const nameOf = (s: DspOutputStage['view']) => `${s.fast ? 'fast' : s.wide ? 'wide' : 'exact'}${s.perChannel ? '_pc' : ''}${s.fullRange ? '' : '_clamp'}`;
  const key = [
    groupStride === 2 * pixelCount ? `te_conv2d_s8_dsp_block${pixelCount}` : `te_conv2d_s8_dsp_pixel_of${groupStride / 2}`,
    form.onePass ? `g${form.unroll}` : `u${form.unroll}${form.remainder ? 'r' : ''}`,
    nameOf(form.stage),
    ...(form.oddChannels ? ['odd'] : []),
    ...(form.residualStage ? ['add', nameOf(form.residualStage)] : []),
  ].join('_');
  return {
    template: 'dsp/te_conv2d_s8_block',
    key,
    params: {
      pixelCount,
      pair: blockView(2, pixelCount, groupStride),
      single: form.oddChannels ? blockView(1, pixelCount, groupStride) : false,
      unroll: new Array<null>(form.unroll).fill(null),
      remainder: form.remainder,
      onePass: form.onePass,
      stage: formOf(form.stage),
      residual: form.residualStage ? formOf(form.residualStage) : false,
    },
  };
}

/**
 * The requantization constants in the form the shared block function reads: per channel as dspOutputStage emits
 * them, else one triple (fast, wide) or one multiplier and shift (exact) for every channel.
 */
function stageConstants(stage: DspOutputStage): ConstantArray[] {
  const v = stage.view;
  if (v.perChannel) return stage.constants;
  if (v.fast || v.wide) {
    return [{ role: 'requant', ctype: 'int32_t', values: Int32Array.of(v.multiplier, v.fast ? v.halfPlusZero : v.half, v.rightShift), describe: 'every output channel: Q31 multiplier, rounding term, right shift' }];
  }
  return [
    { role: 'multipliers', ctype: 'int32_t', values: Int32Array.of(v.multiplier), describe: 'Q31 requantization multiplier of every output channel' },
    { role: 'shifts', ctype: 'int32_t', values: Int32Array.of(v.shift), describe: 'requantization shift of every output channel' },
  ];
}

/**
 * Where the output may overlay an input (src/codegen/lower/in-place.ts takes the option where it lowers the arena).
 *
 * Pointwise (1x1, stride 1, no padding): output pixel p is a function of input pixel p alone, and pixels go in
 * order, a block's inputs all widened into scratch before any of its outputs is stored. When the block of pixels
 * [p, p + n) is stored, the pixels still to be read are those from p + n on.
 * - outC <= inC, both starting at the same byte: the block's outputs end at byte (p + n) * outC <= (p + n) * inC,
 *   where the first unread input pixel starts.
 * - outC > inC, both ending at the same byte (the output starts N * (outC - inC) bytes before the input, N pixels):
 *   the outputs end at (p + n) * outC - N * (outC - inC) relative to the input's start, which is at most
 *   (p + n) * inC since p + n <= N.
 * The last, shorter block stores only its real pixels (the others are computed from stale columns in scratch), so
 * the argument holds for it; a fused residual is read element by element just before its output element is stored,
 * and is a separate tensor.
 *
 * Residual Add fused (any kernel size): output element i is stored right after residual element i is read (same
 * shape, both dense), and no residual element is read after its own output is stored: the output may start where
 * the residual starts. Not when the residual is also the convolution's input (a k x k kernel reads neighbouring
 * pixels after their outputs are stored), unless the layer is pointwise with outC == inC, where both arguments hold.
 *
 * A layer whose output becomes a strided channel slice of a concatenation (outputPixelStride, set after lowering by
 * concat-in-place.ts) must not be placed in place: its pixels no longer lie where these arguments assume.
 */
function inPlaceOptions(node: Conv2DNode, residual: ResidualAdd | undefined, pointwise: boolean, inC: number, outC: number, scratch: { bytes: number; purpose: string }): InPlaceOption[] {
  const options: InPlaceOption[] = [];
  const input = node.inputs[0]!;
  if (pointwise) options.push({ input, align: outC <= inC ? 'start' : 'end', scratch });
  if (residual && (residual.residual !== input || (pointwise && outC === inC))) {
    if (!options.some((o) => o.input === residual.residual)) options.push({ input: residual.residual, align: 'start', scratch });
  }
  return options;
}

/**
 * The fused Add's tables: the convolution's own int8 output and the residual input, each rescaled; and the Add's
 * output stage as one triple, (multiplier, rounding term, right shift) or, exact, (multiplier, 0, shift).
 */
function residualEpilogue(graph: Graph, residual: ResidualAdd): { view: { comment: string; stage: DspOutputStage['view'] }; constants: ConstantArray[] } {
  const p = checkedAddParams(graph, residual.add);
  const { tables, stage } = addTables(p, residual.add.op === 'Sub');
  const convTable = tables[residual.convPort]!;
  const otherTable = tables[1 - residual.convPort]!;
  const triple = stage.fast ? [stage.multiplier, stage.halfPlusZero, stage.rightShift] : stage.wide ? [stage.multiplier, stage.half, stage.rightShift] : [stage.multiplier, 0, stage.shift];
  return {
    view: { comment: commentText(residual.add.name, 60), stage },
    constants: [
      ...addTableConstants({ tables: [convTable, otherTable], stage }, ['residualConvTable', 'residualTable'], ['the convolution output', 'the residual input']),
      { role: 'residualRequant', ctype: 'int32_t', values: Int32Array.from(triple), describe: "the Add's output stage: multiplier, rounding term, right shift (exact form: multiplier, 0, shift)" },
    ],
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
