/**
 * `--target stm32`: which ST board is connected. Candidates are the ST-LINK virtual COM ports (USB vendor 0483);
 * each is asked for its product id over the ROM bootloader (Get ID), and the real target whose chip has that id is
 * the board. A port that does not answer the bootloader is reported, not guessed at.
 */
import { SerialPort } from 'serialport';
import { Stm32UartBootloader } from '../agent/bootloader/stm32-uart-bootloader.js';
import { describeProductId } from '../agent/bootloader/chips.js';
import { DeviceError } from '../agent/errors.js';
import { stm32ChipOf } from '../agent/flash/target-chip.js';
import { listPorts, type PortInfo } from '../agent/ports.js';
import { loadAllTargets, type Target } from '../targets/index.js';

export interface DetectedBoard {
  port: string;
  productId: number;
  /** Real targets with this chip (usually one). */
  targets: Target[];
}

export interface DetectOptions {
  /** The ports to look at (default: listPorts()). */
  ports?: PortInfo[];
  /** Asks a port for its STM32 product id; undefined when nothing answers (default: the ROM bootloader, 8E1). */
  identify?: (port: string) => Promise<number | undefined>;
}

/** How `--target stm32` explains itself when it finds nothing. */
export function virtualTargetsHint(): string {
  const virtual = loadAllTargets().filter((t) => t.emulated).map((t) => t.name);
  return `use a virtual target instead: ${virtual.join(', ')} (no --target: qemu-stm32f405)`;
}

export async function detectStm32Board(options: DetectOptions = {}): Promise<{ port: string; target: Target }> {
  const ports = options.ports ?? (await listPorts());
  const stlinks = ports.filter((p) => p.kind === 'st-link');
  if (stlinks.length === 0) {
    throw new DeviceError('--target stm32', `no ST board found (no ST-LINK virtual COM port, USB vendor 0483, among ${ports.length} serial port${ports.length === 1 ? '' : 's'}); ${virtualTargetsHint()}`);
  }
  const identify = options.identify ?? identifyOverBootloader;
  const found: DetectedBoard[] = [];
  const silent: string[] = [];
  for (const port of stlinks) {
    const productId = await identify(port.path);
    if (productId === undefined) silent.push(port.path);
    else found.push({ port: port.path, productId, targets: realTargetsWithChip(productId) });
  }
  const known = found.filter((b) => b.targets.length > 0);
  if (known.length === 1 && known[0]!.targets.length === 1) return { port: known[0]!.port, target: known[0]!.targets[0]! };
  if (known.length > 1 || (known.length === 1 && known[0]!.targets.length > 1)) {
    const list = known.map((b) => `${b.port}: ${b.targets.map((t) => t.name).join(' or ')}`).join('; ');
    throw new DeviceError('--target stm32', `more than one possible ST board (${list}): name one with --target and --port`);
  }
  const unknown = found.map((b) => `${b.port} has an ${describeProductId(b.productId)}, which no built-in target describes`);
  const quiet = silent.length > 0 ? [`${silent.join(', ')} did not answer the ROM bootloader (BOOT0 high and reset, or name the board with --target)`] : [];
  throw new DeviceError('--target stm32', `no known ST board found: ${[...unknown, ...quiet].join('; ')}; ${virtualTargetsHint()}`);
}

function realTargetsWithChip(productId: number): Target[] {
  return loadAllTargets().filter((t) => !t.emulated && (t.flash.bootloaderProductId ?? stm32ChipOf(t)?.productId) === productId);
}

/** Sync + Get ID at 115200 8E1, one short attempt: a port with a running firmware or nothing behind it stays quiet. */
async function identifyOverBootloader(path: string): Promise<number | undefined> {
  const serial = new SerialPort({ path, baudRate: 115200, dataBits: 8, stopBits: 1, parity: 'even', autoOpen: false });
  const opened = await new Promise<boolean>((resolve) => serial.open((error) => resolve(!error)));
  if (!opened) return undefined;
  const bootloader = new Stm32UartBootloader(serial, { port: path, attempts: 1, ackTimeoutMs: 300 });
  try {
    return (await bootloader.connect()).productId;
  } catch {
    return undefined;
  } finally {
    bootloader.detach();
    await new Promise<void>((resolve) => serial.close(() => resolve()));
  }
}
