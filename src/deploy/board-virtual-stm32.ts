/**
 * The virtual STM32 a deploy starts for itself: the same in-process board `tinyedge board serve` runs (a pty that
 * plays the ROM bootloader, QEMU behind it after Go), on a link in a temporary folder. Firmware goes in over the
 * bootloader with the uart-bootloader method and the console is then the same serial device: the real path.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SerialPort } from 'serialport';
import { flashFirmware } from '../agent/flash/index.js';
import type { FirmwareBuild } from '../build/firmware.js';
import { describeBoardEvent, serveVirtualBoard, type VirtualBoard } from '../board/virtual-stm32.js';
import type { Target } from '../targets/index.js';
import type { Board, BoardEvent, LoadedFirmware } from './board.js';
import { connectDevice, openSerialPort, type ExpectedFirmware } from './connect.js';

export async function openVirtualStm32Board(
  target: Target,
  options: { onEvent: (event: BoardEvent) => void; timeoutMs?: number },
): Promise<Board> {
  const { onEvent } = options;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tinyedge-deploy-board-'));
  let board: VirtualBoard;
  let serial: SerialPort | undefined;
  let loaded: LoadedFirmware | undefined;
  let closing = false;
  try {
    board = await serveVirtualBoard({
      target,
      link: path.join(dir, 'tty'),
      onEvent: (event) => {
        // The firmware ended while we were talking to it (a lock-up, a crash QEMU could not report over the UART):
        // end the conversation with QEMU's reason rather than let it time out.
        if (event.type === 'firmware-exited' && serial && !serial.destroyed) serial.destroy(new Error(event.detail));
        const line = describeBoardEvent(event);
        // QEMU ending because we stop the board is no news.
        if (line && event.type !== 'listening' && !closing) onEvent({ type: 'log', message: line });
      },
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const description = `virtual ${target.name} on ${board.link} (ROM bootloader, flashed with uart-bootloader)`;
  onEvent({ type: 'board', description });

  const disconnect = async () => {
    const previous = loaded;
    loaded = undefined;
    serial = undefined;
    await previous?.close();
  };

  return {
    target,
    description,
    persistent: false,
    async load(build: FirmwareBuild, expected: ExpectedFirmware): Promise<LoadedFirmware> {
      if (loaded && loaded.build === build && !loaded.stream.destroyed && board.mode === 'firmware') return loaded;
      await disconnect();
      // Like pressing RESET with BOOT0 high: whatever ran before, the ROM bootloader takes the next image.
      if (board.mode === 'firmware') await board.reset();
      const flash = await flashFirmware({
        image: build.elf,
        target,
        method: 'uart-bootloader',
        port: board.link,
        onProgress: (progress) => onEvent({ type: 'flash', progress }),
      });
      onEvent({ type: 'flashed', result: flash });
      serial = await openSerialPort(board.link, target.console.baud);
      const device = await connectDevice(serial, board.link, expected, options.timeoutMs);
      onEvent({ type: 'started', how: `firmware ${device.hello.firmwareVersion} answered on ${board.link}` });
      loaded = { ...device, flash, build };
      return loaded;
    },
    async close() {
      closing = true;
      await disconnect();
      await board.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
