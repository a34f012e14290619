/**
 * Typed errors carry their context (file, node, op, port); only the CLI turns them into a one-line message and an
 * exit code. Anything that is not a TinyedgeError is a bug in tinyedge and is reported as such.
 */

/** Exit codes of the `tinyedge` command (documented in README.md). */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  model: 3,
  input: 4,
  validation: 5,
  build: 6,
  device: 7,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class TinyedgeError extends Error {
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** The user's command line is wrong (missing option, file exists without --force, ...). */
export class UsageError extends TinyedgeError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/** The model file cannot be read or is not a model we can import: missing, truncated, corrupt, float-only, ... */
export class ModelError extends TinyedgeError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`, ExitCode.model);
  }
}

/** A node of an otherwise readable model is invalid or cannot be imported. */
export class NodeError extends TinyedgeError {
  constructor(
    readonly node: string,
    readonly op: string,
    detail: string,
  ) {
    super(`node '${node}' (${op}): ${detail}`, ExitCode.model);
  }
}

/** Every unsupported op of a model, listed at once. */
export class UnsupportedOpsError extends TinyedgeError {
  constructor(
    readonly file: string,
    readonly ops: { node: string; op: string; reason?: string }[],
  ) {
    const list = ops.map((o) => `${o.op} (node '${o.node}'${o.reason ? `: ${o.reason}` : ''})`).join(', ');
    super(`${file}: ${ops.length} unsupported op${ops.length === 1 ? '' : 's'}: ${list}`, ExitCode.model);
  }
}

/** Input data given by the user does not fit the model (size, dtype, format). */
export class InputError extends TinyedgeError {
  constructor(message: string) {
    super(message, ExitCode.input);
  }
}
