/**
 * AveragePool2D on the DSP path -> dsp/te_avg_pool_s8: the window sums of 4 channels at a time in the int16 lanes
 * of two registers (SXTAB16 adds two sign-extended bytes to two lanes at once: 3 instructions per 4 taps), then the
 * same rounding division as the portable kernel. Windows of more than 255 taps could overflow a lane: portable.
 *
 * Code size: the pooling layers of one form share one function (dsp/te_avg_pool_s8_shared) that reads the shape,
 * the window and the clamp from a small constant array; each layer's function only calls it. A global pool (the
 * window is the whole image: the classifier heads of KWS, VWW and ResNet-8) has a form of its own without window
 * bounds: a plain sum over the image's pixels.
 */
import { tensorOf } from '../../../ir/graph.js';
import type { Graph, Pool2DNode } from '../../../ir/types.js';
import { poolParams } from '../../../quant/params.js';
import type { KernelCall, SharedFunction } from '../../kernel-call.js';

const MAX_LANE_TAPS = 255;

export function dspAveragePoolApplies(graph: Graph, node: Pool2DNode): boolean {
  const input = tensorOf(graph, node.inputs[0]!);
  const output = tensorOf(graph, node.outputs[0]!);
  return (
    node.op === 'AveragePool2D' && input.dtype === 'int8' && output.dtype === 'int8' && input.shape.length === 4 &&
    output.shape.length === 4 && node.attrs.filter[0] * node.attrs.filter[1] <= MAX_LANE_TAPS
  );
}

/** What makes two average pools run the same code: everything else is read from their shape array. */
export interface AveragePoolForm {
  /** One output pixel whose window is exactly the whole image (no padding). */
  global: boolean;
  /** Channels in whole groups of 4 (depth >= 4). */
  groups: boolean;
  /** Channels past the last whole group of 4. */
  tail: boolean;
}

export function averagePoolFormKey(form: AveragePoolForm): string {
  return ['te_avg_pool_s8_dsp', form.global ? 'global' : 'window', ...(form.groups ? [] : ['narrow']), ...(form.tail ? ['tail'] : [])].join('_');
}

export function sharedAveragePool(form: AveragePoolForm): SharedFunction {
  return { template: 'dsp/te_avg_pool_s8_shared', key: averagePoolFormKey(form), params: { ...form } };
}

export function lowerAveragePoolDsp(graph: Graph, node: Pool2DNode): KernelCall {
  const input = tensorOf(graph, node.inputs[0]!);
  const output = tensorOf(graph, node.outputs[0]!);
  const { clamp } = poolParams(graph, node);
  const [batches, inH, inW, depth] = input.shape as [number, number, number, number];
  const [, outH, outW] = output.shape as [number, number, number, number];
  const [filterH, filterW] = node.attrs.filter;
  const [strideH, strideW] = node.attrs.stride;
  const { top, bottom, left, right } = node.attrs.padding;
  const global = outH === 1 && outW === 1 && filterH === inH && filterW === inW && top === 0 && bottom === 0 && left === 0 && right === 0;
  const form: AveragePoolForm = { global, groups: depth >= 4, tail: depth % 4 !== 0 };
  const shape = global
    ? [batches, inH * inW, depth, clamp.min, clamp.max]
    : [batches, inH, inW, depth, outH, outW, filterH, filterW, strideH, strideW, top, left, clamp.min, clamp.max];
  return {
    template: 'dsp/te_avg_pool_s8',
    name: 'te_avg_pool_s8_dsp',
    params: {
      key: averagePoolFormKey(form),
      form,
      batches, inH, inW, depth, outH, outW, filterH, filterW, strideH, strideW,
      padTop: top, padLeft: left,
      groups: Math.floor(depth / 4), tailChannels: depth % 4, min: clamp.min, max: clamp.max,
    },
    inputs: [node.inputs[0]!],
    outputs: [node.outputs[0]!],
    // The output pixel stride is an argument of the shared function: the layer may write a concatenation's slice.
    stridedOutput: true,
    shared: [sharedAveragePool(form)],
    constants: [
      {
        role: 'shape',
        ctype: 'int32_t',
        values: Int32Array.from(shape),
        describe: global
          ? 'batches, pixels, channels, clamp min, clamp max'
          : 'batches, input height, width, channels, output height, width, filter height, width, stride height, width, padding top, left, clamp min, max',
      },
    ],
  };
}
