/**
 * Errors of talking to a board, each naming the port. (DeviceError belongs in src/errors.ts beside the other
 * exit-code classes; it lives here until the owner of that file moves it.)
 */
import { ExitCode, TinyedgeError } from '../errors.js';
import type { Fault } from './protocol.js';

export class DeviceError extends TinyedgeError {
  constructor(
    readonly port: string,
    detail: string,
  ) {
    super(`${port}: ${detail}`, ExitCode.device);
  }
}

/** No (good) answer within the time-out, after every retry. */
export class DeviceTimeoutError extends DeviceError {}

/** The stream ended: the board was unplugged, or the emulator exited. */
export class DeviceClosedError extends DeviceError {}

/** The board speaks another protocol version or sent a malformed message. */
export class DeviceProtocolError extends DeviceError {}

/** The board restarted in the middle of a request. */
export class DeviceResetError extends DeviceError {}

/** The firmware understood the request and refused it. */
export class DeviceReplyError extends DeviceError {
  constructor(
    port: string,
    readonly code: number,
    readonly reason: string,
    request: string,
  ) {
    super(port, `the device refused ${request}: ${reason} (error ${code})`);
  }
}

const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;

/** The firmware took a fault (HardFault or escalated) and stopped. */
export class DeviceFaultError extends DeviceError {
  constructor(
    port: string,
    readonly fault: Fault,
  ) {
    super(
      port,
      `the firmware faulted (exception ${fault.exception}) at PC=${hex(fault.pc)} LR=${hex(fault.lr)} ` +
        `CFSR=${hex(fault.cfsr)} HFSR=${hex(fault.hfsr)}`,
    );
  }
}
