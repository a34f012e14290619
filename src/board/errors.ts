import { ExitCode, TinyedgeError } from '../errors.js';

/** The virtual board cannot start or keep running (socat/QEMU missing or failing, link path taken...). */
export class BoardError extends TinyedgeError {
  constructor(
    readonly board: string,
    detail: string,
  ) {
    super(`virtual board ${board}: ${detail}`, ExitCode.device);
  }
}
