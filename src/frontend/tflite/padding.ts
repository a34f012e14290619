/**
 * SAME / VALID padding made explicit, computed as TFLite's ComputePaddingHeightWidth does: the output size first
 * (SAME: ceil(in / stride); VALID: floor((in - effective filter) / stride) + 1, effective filter = (k - 1) * d + 1),
 * then the total padding that output needs, split with the odd pixel at the bottom / right. Divisions truncate, as
 * in C.
 */
import type { Padding2D } from '../../ir/types.js';

export type PaddingMode = 'SAME' | 'VALID';

export interface Window {
  /** [height, width] each. */
  filter: [number, number];
  stride: [number, number];
  dilation: [number, number];
}

export interface ExplicitPadding {
  padding: Padding2D;
  /** [height, width] of the output TFLite computes. */
  outputSize: [number, number];
}

export function explicitPadding(mode: PaddingMode, inputSize: [number, number], window: Window): ExplicitPadding {
  const [top, bottom, outHeight] = paddingAlong(mode, inputSize[0], window.filter[0], window.stride[0], window.dilation[0]);
  const [left, right, outWidth] = paddingAlong(mode, inputSize[1], window.filter[1], window.stride[1], window.dilation[1]);
  return { padding: { top, bottom, left, right }, outputSize: [outHeight, outWidth] };
}

/** [before, after, output size] along one spatial axis. */
function paddingAlong(mode: PaddingMode, size: number, filter: number, stride: number, dilation: number): number[] {
  const effectiveFilter = (filter - 1) * dilation + 1;
  const output =
    mode === 'SAME' ? Math.trunc((size + stride - 1) / stride) : Math.trunc((size + stride - effectiveFilter) / stride);
  const total = Math.max(0, (output - 1) * stride + effectiveFilter - size);
  const before = Math.floor(total / 2);
  return [before, total - before, output];
}
