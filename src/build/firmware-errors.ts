import { ExitCode, TinyedgeError } from '../errors.js';

/**
 * The firmware cannot be built: missing toolchain, a compiler error, or a model that does not fit the target.
 * (Belongs in src/errors.ts next to the other exit-code classes; kept here until the owner of that file moves it.)
 */
export class BuildError extends TinyedgeError {
  constructor(
    message: string,
    /** Compiler or linker output, when there is some. */
    readonly output?: string,
  ) {
    super(output ? `${message}\n${output.trimEnd()}` : message, ExitCode.build);
  }
}
