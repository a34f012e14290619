/**
 * A board on a serial port: a real one, or a virtual one someone serves with `tinyedge board serve`. The firmware
 * goes in by a flash method, then the console is the same port at the firmware's baud rate and 8N1.
 */
import { FLASH_METHODS, flashFirmware, type FlashMethod } from '../agent/flash/index.js';
import { externalTools, type ExternalToolMethod } from '../agent/flash/external-tools.js';
import { findProgramOnPath } from '../agent/programs.js';
import type { FirmwareBuild } from '../build/firmware.js';
import { UsageError } from '../errors.js';
import type { Target } from '../targets/index.js';
import type { Board, BoardEvent, LoadedFirmware } from './board.js';
import { connectDevice, openSerialPort, type ExpectedFirmware } from './connect.js';

export async function openSerialBoard(
  target: Target,
  options: { port: string; method?: string; onEvent: (event: BoardEvent) => void; timeoutMs?: number },
): Promise<Board> {
  const { port, onEvent } = options;
  const method = options.method ?? defaultFlashMethod(target);
  let loaded: LoadedFirmware | undefined;
  const description = `${target.emulated ? 'virtual ' : ''}${target.name} on ${port} (flashed with ${method})`;
  onEvent({ type: 'board', description });

  const disconnect = async () => {
    const previous = loaded;
    loaded = undefined;
    await previous?.close();
  };

  return {
    target,
    description,
    persistent: true,
    async load(build: FirmwareBuild, expected: ExpectedFirmware): Promise<LoadedFirmware> {
      if (loaded && loaded.build === build && !loaded.stream.destroyed) return loaded;
      await disconnect();
      const flash = await flashFirmware({
        image: build.elf,
        target,
        method,
        // The serial port is the bootloader's line for uart-bootloader; the other methods find their own probe/drive.
        ...(method === 'uart-bootloader' || method === 'stm32-bootloader' ? { port } : {}),
        onProgress: (progress) => onEvent({ type: 'flash', progress }),
      });
      onEvent({ type: 'flashed', result: flash });
      const serial = await openSerialPort(port, target.console.baud);
      const device = await connectDevice(serial, port, expected, options.timeoutMs);
      onEvent({ type: 'started', how: `firmware ${device.hello.firmwareVersion} answered on ${port}` });
      loaded = { ...device, flash, build };
      return loaded;
    },
    close: disconnect,
  };
}

const METHOD_NAMES: Record<string, FlashMethod> = { 'stm32-bootloader': 'uart-bootloader' };

/**
 * The first method the target lists that can work here: an external flasher that is installed, or the ROM
 * bootloader over the port; an emulated STM32 (a `board serve` board) takes the bootloader.
 */
export function defaultFlashMethod(target: Target): FlashMethod {
  if (target.emulated) return 'uart-bootloader';
  const listed = target.flash.methods
    .map((m) => METHOD_NAMES[m] ?? m)
    .filter((m): m is FlashMethod => (FLASH_METHODS as readonly string[]).includes(m));
  const usable = listed.find((m) => m === 'uart-bootloader' || (m in externalTools && findProgramOnPath(externalTools[m as ExternalToolMethod].command)));
  if (usable) return usable;
  if (listed.length > 0) return listed[0]!;
  throw new UsageError(`${target.name} lists no flash method tinyedge knows (${target.flash.methods.join(', ') || 'none'}); choose one with --method (${FLASH_METHODS.join(', ')})`);
}
