/**
 * DepthwiseConv2D on the DSP path -> dsp/te_depthwise_conv2d_s8 (depth multiplier 1, symmetric int8 weights, int8
 * output; any kernel size, stride, dilation and padding: 3x3, k x 1 and 1 x k alike).
 *
 * Channels go four at a time: one word of input per tap, SXTB16 into the int16 pairs (c0, c2) and (c1, c3), and
 * SMLABB / SMLATT against weights stored here already widened in the same pairs, so each tap costs one load of
 * input, two widenings, one double-word load of weights and four multiply-accumulates, with every tap unrolled.
 * Pixels whose taps all lie inside the image read them at constant offsets; the others read a padding tap from a
 * constant pixel of input zero points, which the input offset folded into the bias cancels exactly.
 *
 * With the fast requantization (which doubles the accumulator first), weights and bias are stored doubled: 2w still
 * fits an int16 lane, and the accumulator comes out doubled at no cost, one instruction less per output.
 *
 * Code size: layers of one form (kernel size, requantization form, clamp, whether any pixel reads padding) run the
 * same functions (dsp/te_depthwise_conv2d_s8_shared); shapes, strides, dilation, padding, the requantization
 * numbers and the constant arrays are fields of a const struct the layer's own function passes. Tap offsets are
 * then run-time values: one load more per tap, read from a small array.
 *
 * In place (depth multiplier 1, one image, dense output): the output may start where the input does. Output row r
 * covers input bytes that rows after it still read, so it waits in a ring of row buffers (scratch) and is copied to
 * its place only once every row still to be computed reads input beyond it: `inPlaceDelay` finds the smallest such
 * delay D, and the ring holds D + 1 rows.
 */
import { tensorOf } from '../../../ir/graph.js';
import type { DepthwiseConv2DNode, Graph } from '../../../ir/types.js';
import { convParams } from '../../../quant/params.js';
import type { InPlaceOption, KernelCall, SharedFunction } from '../../kernel-call.js';
import { symmetricWeights } from '../common.js';
import { lanes } from './matmul.js';
import { accumulatorBounds, dspOutputStage, type DspOutputStage } from './output-stage.js';

const INT16_MAX = 32767;

export function dspDepthwiseApplies(graph: Graph, node: DepthwiseConv2DNode): boolean {
  const input = tensorOf(graph, node.inputs[0]!);
  const weights = tensorOf(graph, node.inputs[1]!);
  const output = tensorOf(graph, node.outputs[0]!);
  if (input.dtype !== 'int8' || weights.dtype !== 'int8' || output.dtype !== 'int8' || !weights.data) return false;
  if (input.shape.length !== 4 || weights.shape.length !== 4 || output.shape.length !== 4) return false;
  if (node.attrs.depthMultiplier !== 1 || weights.shape[3] !== input.shape[3]) return false;
  // The shape struct holds sizes as int16.
  if ([...input.shape, ...output.shape].some((size) => size > INT16_MAX)) return false;
  return symmetricWeights(convParams(graph, node));
}

/** The output range [begin, end) along one axis whose taps all fall inside the input. */
function insideRange(outSize: number, inSize: number, stride: number, pad: number, span: number): [number, number] {
  let begin = 0;
  while (begin < outSize && begin * stride - pad < 0) begin++;
  let end = begin;
  while (end < outSize && end * stride - pad + span <= inSize) end++;
  return [begin, end];
}

export function lowerDepthwiseConv2DDsp(graph: Graph, node: DepthwiseConv2DNode): KernelCall {
  const input = tensorOf(graph, node.inputs[0]!);
  const weights = tensorOf(graph, node.inputs[1]!);
  const output = tensorOf(graph, node.outputs[0]!);
  const weightData = weights.data as Int8Array;
  const [batches, inH, inW, channels] = input.shape as [number, number, number, number];
  const [, kH, kW] = weights.shape as [number, number, number, number];
  const [, outH, outW] = output.shape as [number, number, number, number];
  const { stride, dilation, padding } = node.attrs;
  const tapCount = kH * kW;
  const weightAt = (c: number, t: number) => weightData[t * channels + c]!;

  const params = convParams(graph, node);
  const bias = Int32Array.from({ length: channels }, (_, c) => {
    let sum = 0;
    for (let t = 0; t < tapCount; t++) sum += weightAt(c, t);
    return (params.bias?.[c] ?? 0) + params.inputOffset * sum;
  });
  const bounds = accumulatorBounds(bias, channels, tapCount, weightAt);
  const stage = dspOutputStage(params, bounds);
  const scale = stage.view.fast ? 2 : 1;
  const storedWeight = (c: number, t: number) => scale * weightAt(c, t);

  // Per group of 4 channels and tap: (w[c0], w[c2]) and (w[c1], w[c3]) as int16 pairs, in the order of the loop.
  const groups = Math.floor(channels / 4);
  const packed = new Int32Array(groups * tapCount * 2);
  for (let g = 0; g < groups; g++) {
    for (let t = 0; t < tapCount; t++) {
      const c = 4 * g;
      packed[(g * tapCount + t) * 2] = lanes(storedWeight(c, t), storedWeight(c + 2, t));
      packed[(g * tapCount + t) * 2 + 1] = lanes(storedWeight(c + 1, t), storedWeight(c + 3, t));
    }
  }
  const tailChannels = channels % 4;
  const tailWeights = Int32Array.from({ length: tailChannels * tapCount }, (_, i) => storedWeight(groups * 4 + Math.floor(i / tapCount), i % tapCount));

  const rows = insideRange(outH, inH, stride[0], padding.top, (kH - 1) * dilation[0] + 1);
  const columns = insideRange(outW, inW, stride[1], padding.left, (kW - 1) * dilation[1] + 1);
  const everyPixelInside = rows[0] === 0 && rows[1] === outH && columns[0] === 0 && columns[1] === outW;
  const noPixelInside = rows[0] >= rows[1] || columns[0] >= columns[1];
  // With no pixel inside, every row takes the border path: an empty row range says so.
  const [rowBegin, rowEnd] = noPixelInside ? [0, 0] : rows;
  const [columnBegin, columnEnd] = noPixelInside ? [0, 0] : columns;
  const form: DepthwiseForm = { kH, kW, ...stageForm(stage.view), border: !everyPixelInside };
  const key = formKey(form);
  const shared: SharedFunction = {
    template: 'dsp/te_depthwise_conv2d_s8_shared',
    key,
    params: {
      ...form,
      tapCount,
      taps: Array.from({ length: tapCount }, (_, t) => ({ t })),
      tapRows: Array.from({ length: kH }, (_, dy) => ({ dy, taps: Array.from({ length: kW }, (_, dx) => ({ t: dy * kW + dx, dx })) })),
    },
  };
  const delay = batches === 1 ? inPlaceDelay({ inH, inW, outH, outW, strideH: stride[0], padTop: padding.top }) : null;
  const rowBytes = outW * channels;
  const inPlace: InPlaceOption[] =
    delay !== null && (delay + 1) * rowBytes < outH * rowBytes
      ? [{ input: node.inputs[0]!, align: 'start', scratch: { bytes: (delay + 1) * rowBytes, purpose: `${delay + 1} output row(s) waiting to be copied over the input` } }]
      : [];
  return {
    template: 'dsp/te_depthwise_conv2d_s8',
    name: 'te_depthwise_conv2d_s8_dsp',
    params: {
      key,
      batches, inH, inW, channels, outH, outW, kH, kW,
      strideH: stride[0], strideW: stride[1], dilationH: dilation[0], dilationW: dilation[1],
      padTop: padding.top, padLeft: padding.left,
      groups, tailChannels,
      rowBegin, rowEnd, columnBegin, columnEnd,
      border: form.border,
      interior: !noPixelInside,
      stage: layerStage(stage.view),
      ringRows: delay === null ? 0 : delay + 1,
    },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    stridedOutput: true,
    shared: [shared],
    ...(inPlace.length > 0 ? { inPlace } : {}),
    constants: [
      ...(groups > 0
        ? [
            {
              role: 'weights',
              ctype: 'int32_t' as const,
              values: packed,
              describe: `weights [${weights.shape}]${scale === 2 ? ' doubled and' : ''} widened: per 4 channels and tap, (c0, c2) and (c1, c3) int16 pairs`,
            },
          ]
        : []),
      ...(tailChannels > 0 ? [{ role: 'tailWeights', ctype: 'int32_t' as const, values: tailWeights, describe: `weights of the last ${tailChannels} channel(s), per channel and tap` }] : []),
      {
        role: 'bias',
        ctype: 'int32_t',
        values: bias.map((b) => scale * b),
        describe: `${scale === 2 ? 'twice ' : ''}the bias with the input offset folded in: bias[c] - Z_in * sum(w[c])`,
      },
      ...(everyPixelInside ? [] : [{ role: 'zeroPixel', ctype: 'int8_t' as const, values: new Int8Array(channels).fill(-params.inputOffset), describe: 'a pixel of input zero points, read by padding taps' }]),
      ...stage.constants,
    ],
  };
}

/** What makes two depthwise layers run the same code: everything else is a field of the layer's shape struct. */
export interface DepthwiseForm {
  kH: number;
  kW: number;
  /** Requantization form; the fast one always on doubled accumulators (weights and bias stored doubled). */
  fast: boolean;
  wide: boolean;
  exact: boolean;
  perChannel: boolean;
  /** The clamp is int8's whole range (one SSAT). */
  fullRange: boolean;
  /** Some output pixel has taps in the padding. */
  border: boolean;
}

function stageForm(view: DspOutputStage['view']): Pick<DepthwiseForm, 'fast' | 'wide' | 'exact' | 'perChannel' | 'fullRange'> {
  return { fast: view.fast, wide: view.wide, exact: !view.fast && !view.wide, perChannel: view.perChannel, fullRange: view.fullRange };
}

/** The C name of a form's shared functions, e.g. te_dw_s8_dsp_3x3_fast_pc_pad. */
export function formKey(form: DepthwiseForm): string {
  return [
    'te_dw_s8_dsp',
    `${form.kH}x${form.kW}`,
    form.fast ? 'fast' : form.wide ? 'wide' : 'exact',
    ...(form.perChannel ? ['pc'] : []),
    ...(form.fullRange ? [] : ['clamp']),
    ...(form.border ? ['pad'] : []),
  ].join('_');
}

/** The layer-wide requantization numbers the shared kernel reads from the shape struct (unused per channel). */
function layerStage(view: DspOutputStage['view']) {
  return {
    fast: view.fast,
    wide: view.wide,
    fullRange: view.fullRange,
    perChannel: view.perChannel,
    exact: !view.fast && !view.wide,
    multiplier: view.multiplier,
    half: view.fast ? view.halfPlusZero : view.half,
    shift: view.fast || view.wide ? view.rightShift : view.shift,
    outputOffset: view.outputOffset,
    min: view.min,
    max: view.max,
  };
}

export interface RowGeometry {
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  strideH: number;
  padTop: number;
}

/**
 * The smallest delay D (in output rows) after which a computed output row can be copied over an input that starts
 * at the same byte, or null where no delay short of keeping every row works. Output row r covers the bytes
 * [r * outW, (r + 1) * outW) pixels of the image; once row k is computed, the rows still to come read input from
 * row (k + 1) * strideH - padTop on, i.e. from pixel ((k + 1) * strideH - padTop) * inW. Row r may be copied after
 * row k = r + D when its last byte lies before that. The last D rows are copied after the last row is computed.
 */
export function inPlaceDelay(geometry: RowGeometry): number | null {
  const { inW, outH, outW, strideH, padTop } = geometry;
  for (let delay = 0; delay < outH; delay++) {
    let safe = true;
    for (let row = 0; row + delay + 1 < outH && safe; row++) {
      const firstRead = ((row + delay + 1) * strideH - padTop) * inW;
      safe = (row + 1) * outW <= firstRead;
    }
    if (safe) return delay;
  }
  return null;
}
