/** One-input int8 functions: LOGISTIC, TANH, HARD_SWISH, RELU, RELU6, NEG, LEAKY_RELU, SOFTMAX. */
import type { LeakyReluNode, SoftmaxNode, UnaryNode } from '../../../ir/types.js';
import { leakyReluAlpha, softmaxBeta } from '../options.js';
import { type OperatorContext, requireInt8Activation } from './context.js';

function int8InOut(context: OperatorContext): { input: string; output: string } {
  const input = requireInt8Activation(context.input(0, 'input'), 'input');
  const output = requireInt8Activation(context.output(), 'output');
  return { input: input.name, output: output.name };
}

export function unaryImporter(op: UnaryNode['op']) {
  return (context: OperatorContext): UnaryNode => {
    const { input, output } = int8InOut(context);
    return { op, name: context.name, inputs: [input], outputs: [output], attrs: {} };
  };
}

export function importLeakyRelu(context: OperatorContext): LeakyReluNode {
  const { input, output } = int8InOut(context);
  const alpha = leakyReluAlpha(context.options('LeakyReluOptions'));
  return { op: 'LeakyRelu', name: context.name, inputs: [input], outputs: [output], attrs: { alpha } };
}

export function importSoftmax(context: OperatorContext): SoftmaxNode {
  const { input, output } = int8InOut(context);
  const beta = softmaxBeta(context.options('SoftmaxOptions'));
  return { op: 'Softmax', name: context.name, inputs: [input], outputs: [output], attrs: { beta } };
}
