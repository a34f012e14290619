/**
 * Where the firmware runs, behind one interface: load a build (flash it, start it, connect), then talk to it, then
 * close. Which board a deploy gets is decided here, from the target and the command line:
 *
 *   emulated STM32, no --port   an in-process virtual board (the `board serve` one), flashed over its ROM
 *                               bootloader: exactly the path a real board takes (board-virtual-stm32.ts)
 *   other emulated, no --port   QEMU started directly with the ELF: the MPS2 machines have no bootloader (board-qemu.ts)
 *   --port, or a real board     flash by a method (uart-bootloader, st-flash, ...), then the console on the serial
 *                               port (board-serial.ts); a real board without --port uses the one ST-LINK port found
 */
import type { FlashProgress } from '../agent/bootloader/stm32-uart-bootloader.js';
import type { FlashResult } from '../agent/flash/index.js';
import { stm32ChipOf } from '../agent/flash/target-chip.js';
import { listPorts } from '../agent/ports.js';
import type { FirmwareBuild } from '../build/firmware.js';
import { UsageError } from '../errors.js';
import type { Target } from '../targets/index.js';
import { openQemuBoard } from './board-qemu.js';
import { openSerialBoard } from './board-serial.js';
import { openVirtualStm32Board } from './board-virtual-stm32.js';
import type { ConnectedDevice, ExpectedFirmware } from './connect.js';

export type BoardEvent =
  | { type: 'board'; description: string }
  | { type: 'flash'; progress: FlashProgress }
  | { type: 'flashed'; result: FlashResult }
  | { type: 'started'; how: string }
  | { type: 'log'; message: string };

export interface LoadedFirmware extends ConnectedDevice {
  /** How the firmware got there (absent when QEMU loads the ELF itself). */
  flash?: FlashResult;
  /** The build it runs. */
  build: FirmwareBuild;
}

export interface Board {
  target: Target;
  /** One line: "virtual qemu-stm32f405 on /tmp/.../tty (ROM bootloader)". */
  description: string;
  /** Whether the board keeps what was flashed after we close (a real board does; the in-process ones vanish). */
  persistent: boolean;
  /** Flashes `build`, starts it and connects; a build already running is reused as it is. */
  load(build: FirmwareBuild, expected: ExpectedFirmware): Promise<LoadedFirmware>;
  close(): Promise<void>;
}

export interface OpenBoardOptions {
  port?: string;
  method?: string;
  onEvent?: (event: BoardEvent) => void;
  /** Time-out of one request to the firmware (default REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
}

export async function openBoard(target: Target, options: OpenBoardOptions = {}): Promise<Board> {
  const onEvent = options.onEvent ?? (() => {});
  if (target.emulated && options.port === undefined) {
    if (stm32ChipOf(target) && target.qemu) return openVirtualStm32Board(target, { onEvent, timeoutMs: options.timeoutMs });
    return openQemuBoard(target, { onEvent, timeoutMs: options.timeoutMs });
  }
  const port = options.port ?? (await onlyStlinkPort(target));
  return openSerialBoard(target, { port, method: options.method, onEvent, timeoutMs: options.timeoutMs });
}

/** A real board named without --port: its ST-LINK virtual COM port, when there is exactly one. */
async function onlyStlinkPort(target: Target): Promise<string> {
  const stlinks = (await listPorts()).filter((p) => p.kind === 'st-link');
  if (stlinks.length === 1) return stlinks[0]!.path;
  const found = stlinks.length === 0 ? 'no ST-LINK port is connected' : `ST-LINK ports: ${stlinks.map((p) => p.path).join(', ')}`;
  throw new UsageError(`${target.name} is a real board: name its serial port with --port (${found}; \`tinyedge ports\` lists them)`);
}
