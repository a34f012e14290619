/** The explicit padding of a sliding-window op (conv, depthwise conv, pool), checked against its output's size. */
import type { Padding2D, Tensor } from '../../../ir/types.js';
import { explicitPadding, type PaddingMode, type Window } from '../padding.js';
import { InvalidNode } from './context.js';

export function windowPadding(input: Tensor, output: Tensor, mode: PaddingMode, window: Window): Padding2D {
  requireAtLeastOne(window.stride, 'stride');
  requireAtLeastOne(window.dilation, 'dilation');
  requireAtLeastOne(window.filter, 'filter size');
  const { padding, outputSize } = explicitPadding(mode, [input.shape[1]!, input.shape[2]!], window);
  // A different output size would mean different padding from TFLite's: the model is not what TFLite would run.
  if (output.shape[1] !== outputSize[0] || output.shape[2] !== outputSize[1]) {
    throw new InvalidNode(
      `output '${output.name}' has shape [${output.shape.join(', ')}], ` +
        `but the window gives ${outputSize[0]}x${outputSize[1]}`,
    );
  }
  return padding;
}

function requireAtLeastOne(pair: [number, number], what: string): void {
  if (!(pair[0] >= 1 && pair[1] >= 1)) throw new InvalidNode(`${what} ${pair[0]}x${pair[1]} must be at least 1x1`);
}
