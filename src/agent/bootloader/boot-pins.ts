import { BootloaderError } from './errors.js';

/**
 * Boards wired for serial flashing drive NRST and BOOT0 from the USB-serial adapter's modem lines (the usual
 * auto-program circuit: asserting a line pulls NRST low / drives BOOT0 high). Which line does what is the board's
 * business, so it is an option; Nucleo boards have no such wiring and flash through the ST-LINK instead.
 */
export interface BootPins {
  reset: 'dtr' | 'rts';
  /** Absent when BOOT0 is a jumper the user sets by hand. */
  boot0?: 'dtr' | 'rts';
}

/** What we need of a port to toggle modem lines: serialport's SerialPort has it, a socket does not. */
export interface ModemLines {
  set(options: { dtr?: boolean; rts?: boolean }, callback?: (error: Error | null) => void): unknown;
}

export function hasModemLines(stream: unknown): stream is ModemLines {
  return typeof (stream as { set?: unknown }).set === 'function';
}

/** Reset pulse and settling times: NRST needs microseconds, but adapters and RC filters on boards need more. */
const RESET_PULSE_MS = 50;
const BOOT_SETTLE_MS = 100;

/** BOOT0 high across a reset pulse: the chip comes up in its ROM bootloader. */
export async function resetIntoBootloader(port: string, lines: unknown, pins: BootPins): Promise<void> {
  await pulseReset(port, lines, pins, true);
}

/** BOOT0 low across a reset pulse: the chip comes up running the flashed application. */
export async function resetIntoApplication(port: string, lines: unknown, pins: BootPins): Promise<void> {
  await pulseReset(port, lines, pins, false);
}

async function pulseReset(port: string, lines: unknown, pins: BootPins, boot0High: boolean): Promise<void> {
  if (!hasModemLines(lines)) {
    throw new BootloaderError(port, 'reset', 'this port has no modem lines (DTR/RTS) to drive NRST/BOOT0');
  }
  const level = (line: 'dtr' | 'rts', asserted: boolean) => ({ [line]: asserted });
  const boot0 = pins.boot0 ? level(pins.boot0, boot0High) : {};
  await setLines(port, lines, { ...boot0, ...level(pins.reset, true) });
  await delay(RESET_PULSE_MS);
  await setLines(port, lines, { ...boot0, ...level(pins.reset, false) });
  await delay(BOOT_SETTLE_MS);
}

function setLines(port: string, lines: ModemLines, state: { dtr?: boolean; rts?: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    lines.set(state, (error) =>
      error ? reject(new BootloaderError(port, 'reset', `cannot set ${JSON.stringify(state)}: ${error.message}`)) : resolve(),
    );
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
