/** MEAN over constant axes. */
import type { MeanNode } from '../../../ir/types.js';
import { reducerKeepDims } from '../options.js';
import { type OperatorContext, Unsupported, constantIntegers, normalizeAxis, requireInt8Activation } from './context.js';

export function importMean(context: OperatorContext): MeanNode {
  const input = requireInt8Activation(context.input(0, 'input'), 'input');
  const axesTensor = context.input(1, 'axes');
  const output = requireInt8Activation(context.output(), 'output');
  const rank = input.shape.length;
  const axes = [...new Set(constantIntegers(axesTensor, 'axes').map((axis) => normalizeAxis(axis, rank, 'axis')))];
  if (axes.length === 0) throw new Unsupported('a MEAN over no axis');
  return {
    op: 'Mean',
    name: context.name,
    inputs: [input.name],
    outputs: [output.name],
    attrs: { axes, keepDims: reducerKeepDims(context.options('ReducerOptions')) },
  };
}
