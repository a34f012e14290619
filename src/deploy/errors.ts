/**
 * Errors of the deploy pipeline that no other stage has a class for. (They belong in src/errors.ts beside the other
 * exit-code classes; they live here until the owner of that file consolidates them.)
 */
import { ExitCode, TinyedgeError } from '../errors.js';
import type { DeployOutcome } from './index.js';

/** The device computed something else than the reference: the measurement is complete, the model is wrong. */
export class ValidationError extends TinyedgeError {
  constructor(message: string) {
    super(message, ExitCode.validation);
  }
}

/** The one line a deploy whose outputs differ ends with: how many, by how much, and where it starts. */
export function validationFailure(model: string, outcome: DeployOutcome): ValidationError {
  const { mismatches, compared, maxAbsDiff } = outcome.validation;
  const layer = outcome.diagnosis?.layer;
  const where = layer ? `; first diverging layer: ${layer.index} ${layer.op} '${layer.name}'` : outcome.diagnosis ? `; ${outcome.diagnosis.note}` : '';
  return new ValidationError(
    `${model}: on ${outcome.target.name} ${mismatches} of ${compared} output values differ from the reference (max |difference| ${maxAbsDiff})${where}`,
  );
}
