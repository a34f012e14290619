import { ExitCode, TinyedgeError } from '../../errors.js';

/**
 * The STM32 ROM bootloader on `port` refused or did not answer `command` (after the bounded retries), or answered
 * something a real bootloader never sends. One line: the CLI prints it as is.
 */
export class BootloaderError extends TinyedgeError {
  constructor(
    readonly port: string,
    readonly command: string,
    readonly detail: string,
  ) {
    super(`${port}: bootloader ${command}: ${detail}`, ExitCode.device);
  }
}
