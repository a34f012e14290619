import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import type { Stm32Chip } from '../agent/bootloader/chips.js';
import { stm32ChipOf } from '../agent/flash/target-chip.js';
import { hex32 } from '../agent/bootloader/protocol.js';
import { startQemu, type QemuBoard, type QemuExit } from '../agent/qemu.js';
import { loadTarget, mainFlash, mainRam, type Target } from '../targets/index.js';
import { An3155Device, stm32f405Rom, type DeviceEvent, type RomIdentity } from './an3155-device.js';
import { BoardError } from './errors.js';
import { openPtyPair, type PtyPair } from './pty-pair.js';
import { Stm32Memory } from './stm32-memory.js';

export type BoardEvent =
  | { type: 'listening'; link: string; target: string }
  | DeviceEvent
  | { type: 'firmware-started'; image: string }
  | { type: 'firmware-exited'; code: number | undefined; signal: string | undefined; detail: string }
  | { type: 'bootloader' }
  | { type: 'error'; message: string };

export type BoardMode = 'bootloader' | 'firmware';

export interface VirtualBoardOptions {
  /** A target name (targets/*.json) or a loaded target; it must be an emulated STM32 with a QEMU machine. */
  target: string | Target;
  /** Where the serial device appears, e.g. /tmp/tinyedge-board (a symlink to a pty). */
  link: string;
  onEvent?: (event: BoardEvent) => void;
}

export interface VirtualBoard {
  link: string;
  readonly mode: BoardMode;
  /** The bootloader's flash model (what a Read Memory returns). */
  readonly flash: Uint8Array;
  /** Like pressing RESET with BOOT0 high: stops a running firmware, back to the ROM bootloader. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Bytes the ROM keeps for itself at the bottom of SRAM (AN2606): Write Memory there is refused. */
const ROM_RESERVED_SRAM = 0x3000;

/**
 * A serial device that behaves like an STM32 held in its ROM bootloader (AN3155, 8N1 on a pty). After Go the
 * flashed image boots in QEMU and the firmware's console UART is bridged to the same serial device, both ways;
 * when the firmware ends (exit, crash, reset()) the board is back in bootloader mode with its flash kept.
 */
export async function serveVirtualBoard(options: VirtualBoardOptions): Promise<VirtualBoard> {
  const target = typeof options.target === 'string' ? loadTarget(options.target) : options.target;
  const onEvent = options.onEvent ?? (() => {});
  const chip = stm32ChipOf(target);
  if (!target.qemu || !target.emulated || !chip) {
    throw new BoardError(
      target.name,
      'the virtual board plays an STM32 ROM bootloader in front of QEMU: the target must be an emulated STM32 (e.g. qemu-stm32f405)',
    );
  }
  const flashRegion = mainFlash(target);
  const ramRegion = mainRam(target);
  const memory = new Stm32Memory(chip, flashRegion.size, {
    start: ramRegion.origin,
    size: ramRegion.size,
    reservedBytes: ROM_RESERVED_SRAM,
  });

  const workDir = await mkdtemp(path.join(os.tmpdir(), 'tinyedge-board-'));
  let pty: PtyPair;
  try {
    pty = await openPtyPair(target.name, options.link);
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
  const serial = new SerialPort({ path: pty.boardPath, baudRate: 115200, autoOpen: false });
  try {
    await new Promise<void>((resolve, reject) =>
      serial.open((error) => (error ? reject(new BoardError(target.name, `cannot open ${pty.boardPath}: ${error.message}`)) : resolve())),
    );
  } catch (error) {
    await pty.close();
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }

  let mode: BoardMode = 'bootloader';
  let firmware: QemuBoard | undefined;
  let firmwareEnded: Promise<void> = Promise.resolve();
  let closing = false;
  /** reset() or close() came while QEMU was still starting: stop it as soon as it is up. */
  let stopRequested = false;

  const device = new An3155Device(
    memory,
    romFor(chip),
    (bytes) => serial.write(Buffer.from(bytes)),
    onEvent,
    (address) => {
      firmwareEnded = boot(address);
    },
  );

  serial.on('data', (chunk: Buffer) => {
    if (mode === 'bootloader') device.feed(chunk);
    // While QEMU starts there is no UART yet: those bytes are lost, as on a chip still running its reset code.
    else firmware?.stream.write(chunk);
  });
  serial.on('error', (error) => onEvent({ type: 'error', message: `${pty.boardPath}: ${error.message}` }));
  void pty.exited.then(() => {
    if (!closing) onEvent({ type: 'error', message: `socat ended: ${options.link} is gone` });
  });

  async function boot(address: number): Promise<void> {
    mode = 'firmware';
    if (address !== memory.flashOrigin) {
      // QEMU starts a Cortex-M from the vector table at the flash origin only.
      onEvent({ type: 'error', message: `Go to ${hex32(address)}: the virtual board starts applications at ${hex32(memory.flashOrigin)} only` });
      backToBootloader();
      return;
    }
    const image = path.join(workDir, 'flash.bin');
    await writeFile(image, memory.flash);
    try {
      // QEMU takes the raw flash image as its kernel: loaded at 0, the flash alias, exactly as flashed.
      firmware = await startQemu({ target, elf: image });
    } catch (error) {
      onEvent({ type: 'error', message: (error as Error).message });
      backToBootloader();
      return;
    }
    const running = firmware;
    if (stopRequested) await running.stop();
    running.stream.on('data', (chunk: Buffer) => serial.write(chunk));
    running.stream.on('error', () => {}); // QEMU's end closes the socket; exited reports why.
    onEvent({ type: 'firmware-started', image });
    const exit = await running.exited;
    await running.stop();
    firmware = undefined;
    onEvent({ type: 'firmware-exited', code: exit.code, signal: exit.signal, detail: describeExit(exit) });
    if (!closing) backToBootloader();
  }

  function backToBootloader(): void {
    mode = 'bootloader';
    stopRequested = false;
    device.restart();
    onEvent({ type: 'bootloader' });
  }

  onEvent({ type: 'listening', link: options.link, target: target.name });

  return {
    link: options.link,
    get mode() {
      return mode;
    },
    get flash() {
      return memory.flash;
    },
    async reset() {
      if (mode === 'firmware') {
        stopRequested = true;
        await firmware?.stop();
        await firmwareEnded;
      } else {
        device.restart();
      }
    },
    async close() {
      closing = true;
      stopRequested = true;
      await firmware?.stop();
      await firmwareEnded;
      await new Promise<void>((resolve) => (serial.isOpen ? serial.close(() => resolve()) : resolve()));
      await pty.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/**
 * One log line per event worth showing; undefined for the per-block Read/Write Memory traffic (hundreds per flash).
 */
export function describeBoardEvent(event: BoardEvent): string | undefined {
  switch (event.type) {
    case 'listening':
      return `virtual ${event.target} in its ROM bootloader on ${event.link} (AN3155, 8N1)`;
    case 'synced':
      return 'bootloader: synced (0x7F)';
    case 'command':
      return event.command === 'Read Memory' || event.command === 'Write Memory' ? undefined : `bootloader: ${event.command}`;
    case 'erase':
      return `bootloader: erased ${event.sectors === 'all' ? 'all flash' : `sector${event.sectors.length > 1 ? 's' : ''} ${event.sectors.join(', ')}`}`;
    case 'nack':
      return `bootloader: NACK ${event.command} (${event.reason})`;
    case 'reset':
      return `bootloader: ${event.reason}`;
    case 'go':
      return `bootloader: Go ${hex32(event.address)}`;
    case 'firmware-started':
      return 'firmware running in QEMU; its console is on the serial device';
    case 'firmware-exited':
      return event.detail;
    case 'bootloader':
      return 'back in the ROM bootloader';
    case 'error':
      return `error: ${event.message}`;
  }
}

function romFor(chip: Stm32Chip): RomIdentity {
  if (chip.productId === stm32f405Rom.productId) return stm32f405Rom;
  // Other parts: the same command set under their own id; legacy-erase parts have the older v2.2 ROM.
  return chip.erase === 'legacy'
    ? { productId: chip.productId, version: 0x22, commands: [0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x43, 0x63, 0x73, 0x82, 0x92], options: [0, 0] }
    : { ...stm32f405Rom, productId: chip.productId };
}

function describeExit(exit: QemuExit): string {
  const lines = exit.stderr.split('\n').filter(Boolean);
  // QEMU's reason (e.g. "qemu: fatal: Lockup: ...") comes before a register dump.
  const reason = lines.find((line) => /fatal|error/i.test(line)) ?? lines.pop();
  const how = exit.signal ? `QEMU ended by ${exit.signal}` : `firmware exited with status ${exit.code}`;
  return reason ? `${how}: ${reason}` : how;
}
