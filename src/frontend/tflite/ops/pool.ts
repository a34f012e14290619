/** AVERAGE_POOL_2D and MAX_POOL_2D over NHWC, SAME / VALID made explicit, fused activation as the output clamp. */
import type { Pool2DNode } from '../../../ir/types.js';
import { fusedActivationClamp } from '../fused-activation.js';
import { pool2DOptions } from '../options.js';
import { type OperatorContext, requireInt8Activation, requireRank } from './context.js';
import { windowPadding } from './window.js';

export function poolImporter(op: Pool2DNode['op']) {
  return (context: OperatorContext): Pool2DNode => {
    const input = requireInt8Activation(context.input(0, 'input'), 'input');
    const output = requireInt8Activation(context.output(), 'output');
    requireRank(input, 4, 'input');
    requireRank(output, 4, 'output');
    const options = pool2DOptions(context.options('Pool2DOptions'));
    const padding = windowPadding(input, output, options.padding, {
      filter: options.filter,
      stride: options.stride,
      dilation: [1, 1],
    });
    return {
      op,
      name: context.name,
      inputs: [input.name],
      outputs: [output.name],
      attrs: {
        filter: options.filter,
        stride: options.stride,
        padding,
        clamp: fusedActivationClamp(options.activation, output),
      },
    };
  };
}
