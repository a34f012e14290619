/**
 * CONV_2D and DEPTHWISE_CONV_2D: NHWC input, OHWI / [1, kh, kw, Cin * multiplier] weights (TFLite's layouts are the
 * IR's), optional int32 bias, SAME / VALID made explicit, fused activation as the output clamp.
 */
import type { Conv2DNode, DepthwiseConv2DNode, Tensor } from '../../../ir/types.js';
import { fusedActivationClamp } from '../fused-activation.js';
import { conv2DOptions, depthwiseConv2DOptions } from '../options.js';
import {
  InvalidNode,
  type OperatorContext,
  requireBias,
  requireInt8Activation,
  requireInt8Weights,
  requireRank,
  withOptionalBias,
} from './context.js';
import { windowPadding } from './window.js';

export function importConv2D(context: OperatorContext): Conv2DNode {
  const input = requireInt8Activation(context.input(0, 'input'), 'input');
  const weights = requireInt8Weights(context.input(1, 'weights'), 'weights', 4, 0);
  const bias = context.optionalInput(2);
  const output = requireInt8Activation(context.output(), 'output');
  requireRank(input, 4, 'input');
  requireRank(output, 4, 'output');
  const options = conv2DOptions(context.options('Conv2DOptions'));
  const [outChannels, filterHeight, filterWidth, inChannelsPerGroup] = weights.shape as [number, number, number, number];
  const inChannels = input.shape[3]!;
  if (inChannelsPerGroup === 0 || inChannels % inChannelsPerGroup !== 0) {
    throw new InvalidNode(`input has ${inChannels} channels, not a multiple of the weights' ${inChannelsPerGroup}`);
  }
  const groups = inChannels / inChannelsPerGroup;
  if (outChannels % groups !== 0) {
    throw new InvalidNode(`${outChannels} output channels do not split into ${groups} groups`);
  }
  requireOutputChannels(output, outChannels);
  requireBias(bias, outChannels);
  const padding = windowPadding(input, output, options.padding, {
    filter: [filterHeight, filterWidth],
    stride: options.stride,
    dilation: options.dilation,
  });
  return {
    op: 'Conv2D',
    name: context.name,
    inputs: withOptionalBias(context.inputNames),
    outputs: [output.name],
    attrs: {
      stride: options.stride,
      dilation: options.dilation,
      padding,
      groups,
      clamp: fusedActivationClamp(options.activation, output),
    },
  };
}

export function importDepthwiseConv2D(context: OperatorContext): DepthwiseConv2DNode {
  const input = requireInt8Activation(context.input(0, 'input'), 'input');
  const weights = requireInt8Weights(context.input(1, 'weights'), 'weights', 4, 3);
  const bias = context.optionalInput(2);
  const output = requireInt8Activation(context.output(), 'output');
  requireRank(input, 4, 'input');
  requireRank(output, 4, 'output');
  const options = depthwiseConv2DOptions(context.options('DepthwiseConv2DOptions'));
  const [one, filterHeight, filterWidth, outChannels] = weights.shape as [number, number, number, number];
  if (one !== 1) throw new InvalidNode(`weights have shape [${weights.shape.join(', ')}], expected [1, kh, kw, C]`);
  const inChannels = input.shape[3]!;
  // depth_multiplier is redundant with the shapes since DepthwiseConv version 2 and TFLite ignores it: derive it.
  if (inChannels === 0 || outChannels % inChannels !== 0) {
    throw new InvalidNode(`${outChannels} weight channels are not a multiple of the input's ${inChannels}`);
  }
  requireOutputChannels(output, outChannels);
  requireBias(bias, outChannels);
  const padding = windowPadding(input, output, options.padding, {
    filter: [filterHeight, filterWidth],
    stride: options.stride,
    dilation: options.dilation,
  });
  return {
    op: 'DepthwiseConv2D',
    name: context.name,
    inputs: withOptionalBias(context.inputNames),
    outputs: [output.name],
    attrs: {
      stride: options.stride,
      dilation: options.dilation,
      padding,
      depthMultiplier: outChannels / inChannels,
      clamp: fusedActivationClamp(options.activation, output),
    },
  };
}

function requireOutputChannels(output: Tensor, channels: number): void {
  if (output.shape[output.shape.length - 1] !== channels) {
    throw new InvalidNode(`output '${output.name}' has shape [${output.shape.join(', ')}], expected ${channels} channels`);
  }
}
