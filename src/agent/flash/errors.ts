import { ExitCode, TinyedgeError } from '../../errors.js';

/** Flashing with `method` failed or cannot start (tool missing, no drive, no port...). */
export class FlashError extends TinyedgeError {
  constructor(
    readonly method: string,
    readonly detail: string,
  ) {
    super(`flash (${method}): ${detail}`, ExitCode.device);
  }
}

/** The firmware image file is unreadable, not a .bin/.elf we understand, or does not fit the target's flash. */
export class ImageError extends TinyedgeError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`, ExitCode.input);
  }
}
