/**
 * Data movement: RESHAPE and SQUEEZE (both a Reshape to the output's shape), TRANSPOSE, CONCATENATION, PAD, PADV2.
 * Their shape, permutation and padding operands must be constants.
 */
import { elementCount } from '../../../ir/graph.js';
import type { ConcatNode, PadNode, ReshapeNode, Tensor, TransposeNode } from '../../../ir/types.js';
import { concatenationOptions } from '../options.js';
import { Activation } from '../schema.js';
import {
  InvalidNode,
  type OperatorContext,
  Unsupported,
  constantIntegers,
  normalizeAxis,
  requireInt8Activation,
} from './context.js';

/** Same dtype in and out: a reshape or transpose moves values, whatever they are. */
function sameDtype(input: Tensor, output: Tensor): void {
  if (input.dtype !== output.dtype) {
    throw new InvalidNode(`input '${input.name}' is ${input.dtype} but output '${output.name}' is ${output.dtype}`);
  }
}

export function importReshape(context: OperatorContext): ReshapeNode {
  const input = context.input(0, 'input');
  const output = context.output();
  sameDtype(input, output);
  if (elementCount(input.shape) !== elementCount(output.shape)) {
    throw new InvalidNode(`cannot reshape [${input.shape.join(', ')}] into [${output.shape.join(', ')}]`);
  }
  // IR structural ops take only their data input: the target shape (the output's; the file may leave the shape
  // operand empty or hold -1) lives in the attributes.
  return { op: 'Reshape', name: context.name, inputs: [input.name], outputs: [output.name], attrs: { shape: [...output.shape] } };
}

export function importSqueeze(context: OperatorContext): ReshapeNode {
  const input = context.input(0, 'input');
  const output = context.output();
  sameDtype(input, output);
  if (elementCount(input.shape) !== elementCount(output.shape)) {
    throw new InvalidNode(`cannot squeeze [${input.shape.join(', ')}] into [${output.shape.join(', ')}]`);
  }
  return {
    op: 'Reshape',
    name: context.name,
    inputs: [input.name],
    outputs: [output.name],
    attrs: { shape: [...output.shape] },
  };
}

export function importTranspose(context: OperatorContext): TransposeNode {
  const input = context.input(0, 'input');
  const permutation = context.input(1, 'permutation');
  const output = context.output();
  sameDtype(input, output);
  const perm = constantIntegers(permutation, 'permutation');
  const rank = input.shape.length;
  const isPermutation = perm.length === rank && [...perm].sort((a, b) => a - b).every((axis, i) => axis === i);
  if (!isPermutation) throw new InvalidNode(`[${perm.join(', ')}] is not a permutation of ${rank} axes`);
  return {
    op: 'Transpose',
    name: context.name,
    inputs: [input.name],
    outputs: [output.name],
    attrs: { perm },
  };
}

export function importConcatenation(context: OperatorContext): ConcatNode {
  const inputs = context.inputNames.map((_, i) => requireInt8Activation(context.input(i, `input ${i}`), `input ${i}`));
  const output = requireInt8Activation(context.output(), 'output');
  const options = concatenationOptions(context.options('ConcatenationOptions'));
  // TFLite's int8 kernel refuses a fused activation here too.
  if (options.activation !== Activation.NONE) throw new Unsupported('a fused activation on CONCATENATION');
  return {
    op: 'Concat',
    name: context.name,
    inputs: inputs.map((input) => input.name),
    outputs: [output.name],
    attrs: { axis: normalizeAxis(options.axis, output.shape.length, 'axis') },
  };
}

/** PAD pads with the quantized real 0 (the output's zero point); PADV2 with its third operand when given. */
export function importPad(context: OperatorContext): PadNode {
  const input = requireInt8Activation(context.input(0, 'input'), 'input');
  const paddings = context.input(1, 'paddings');
  const padValue = context.optionalInput(2);
  const output = requireInt8Activation(context.output(), 'output');
  const rank = input.shape.length;
  const values = constantIntegers(paddings, 'paddings');
  if (values.length !== 2 * rank || values.some((value) => value < 0)) {
    throw new InvalidNode(`paddings [${values.join(', ')}] are not ${rank} non-negative (before, after) pairs`);
  }
  let value = output.quant!.zeroPoint[0]!;
  if (padValue) {
    if (padValue.dtype !== 'int8' || !padValue.data || padValue.data.length !== 1) {
      throw new Unsupported(`pad value '${padValue.name}' must be one constant int8`);
    }
    value = Number(padValue.data[0]);
  }
  return {
    op: 'Pad',
    name: context.name,
    inputs: [input.name],
    outputs: [output.name],
    attrs: {
      before: values.filter((_, i) => i % 2 === 0),
      after: values.filter((_, i) => i % 2 === 1),
      value,
    },
  };
}
