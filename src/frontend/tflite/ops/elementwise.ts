/** ADD, SUB, MUL: broadcasting binary arithmetic with a fused activation. */
import type { ElementwiseBinaryNode } from '../../../ir/types.js';
import { fusedActivationClamp } from '../fused-activation.js';
import { arithmeticActivation } from '../options.js';
import type { BuiltinOptionsName } from '../schema.js';
import { type OperatorContext, requireInt8Activation } from './context.js';

export function binaryImporter(op: ElementwiseBinaryNode['op'], optionsKind: BuiltinOptionsName) {
  return (context: OperatorContext): ElementwiseBinaryNode => {
    const first = requireInt8Activation(context.input(0, 'first operand'), 'first operand');
    const second = requireInt8Activation(context.input(1, 'second operand'), 'second operand');
    const output = requireInt8Activation(context.output(), 'output');
    const activation = arithmeticActivation(context.options(optionsKind));
    return {
      op,
      name: context.name,
      inputs: [first.name, second.name],
      outputs: [output.name],
      attrs: { clamp: fusedActivationClamp(activation, output) },
    };
  };
}
