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
 */
import { tensorOf } from '../../../ir/graph.js';
import type { DepthwiseConv2DNode, Graph } from '../../../ir/types.js';
import { convParams } from '../../../quant/params.js';
import type { KernelCall } from '../../kernel-call.js';
import { symmetricWeights } from '../common.js';
import { lanes } from './matmul.js';
import { accumulatorBounds, dspOutputStage } from './output-stage.js';

export function dspDepthwiseApplies(graph: Graph, node: DepthwiseConv2DNode): boolean {
  const input = tensorOf(graph, node.inputs[0]!);
  const weights = tensorOf(graph, node.inputs[1]!);
  const output = tensorOf(graph, node.outputs[0]!);
  if (input.dtype !== 'int8' || weights.dtype !== 'int8' || output.dtype !== 'int8' || !weights.data) return false;
  if (input.shape.length !== 4 || weights.shape.length !== 4 || output.shape.length !== 4) return false;
  if (node.attrs.depthMultiplier !== 1 || weights.shape[3] !== input.shape[3]) return false;
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
  const taps = Array.from({ length: tapCount }, (_, t) => {
    const dy = Math.floor(t / kW) * dilation[0];
    const dx = (t % kW) * dilation[1];
    return { t, dy, dx, offset: (dy * inW + dx) * channels };
  });
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

  const [rowBegin, rowEnd] = insideRange(outH, inH, stride[0], padding.top, (kH - 1) * dilation[0] + 1);
  const [columnBegin, columnEnd] = insideRange(outW, inW, stride[1], padding.left, (kW - 1) * dilation[1] + 1);
  const everyPixelInside = rowBegin === 0 && rowEnd === outH && columnBegin === 0 && columnEnd === outW;
  const noPixelInside = rowBegin >= rowEnd || columnBegin >= columnEnd;
  return {
    template: 'dsp/te_depthwise_conv2d_s8',
    name: 'te_depthwise_conv2d_s8_dsp',
    params: {
      batches, inH, inW, channels, outH, outW, kH, kW,
      strideH: stride[0], strideW: stride[1], dilationH: dilation[0], dilationW: dilation[1],
      padTop: padding.top, padLeft: padding.left,
      taps, tapCount, groups, tailChannels,
      tail: Array.from({ length: tailChannels }, (_, i) => ({ i, channel: groups * 4 + i })),
      rowBegin, rowEnd, columnBegin, columnEnd,
      interior: !noPixelInside,
      border: !everyPixelInside,
      stage: { ...stage.view, doubled: stage.view.fast },
      residual: false,
    },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    stridedOutput: true,
    constants: [
      {
        role: 'weights',
        ctype: 'int32_t',
        values: packed,
        describe: `weights [${weights.shape}]${scale === 2 ? ' doubled and' : ''} widened: per 4 channels and tap, (c0, c2) and (c1, c3) int16 pairs`,
      },
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
