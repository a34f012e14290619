/**
 * The virtual STM32F405 board on a real pty, driven by real clients: Debian's stm32flash (an independent AN3155
 * implementation), our Stm32UartBootloader, and a real firmware booted in QEMU after Go.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chipByProductId } from '../../src/agent/bootloader/chips.js';
import { BootloaderError } from '../../src/agent/bootloader/errors.js';
import { Stm32UartBootloader, type FlashProgress } from '../../src/agent/bootloader/stm32-uart-bootloader.js';
import { flashFirmware } from '../../src/agent/flash/index.js';
import { BoardError } from '../../src/board/errors.js';
import { describeBoardEvent, serveVirtualBoard, type BoardEvent, type VirtualBoard } from '../../src/board/virtual-stm32.js';
import { loadTarget } from '../../src/targets/index.js';
import { buildHelloFirmware, type HelloFirmware } from './support/hello-firmware.js';
import { SerialText } from './support/serial-text.js';

const FLASH = 0x0800_0000;
const KiB = 1024;

let workDir: string;
let link: string;
let board: VirtualBoard;
let firmware: HelloFirmware;
/** The hello firmware followed by pseudo-random bytes up to 100 KB: a bootable image of a realistic size. */
let image100k: Uint8Array;
const events: BoardEvent[] = [];
let eventWaiters: { type: BoardEvent['type']; resolve: (event: BoardEvent) => void }[] = [];

function nextEvent<T extends BoardEvent['type']>(type: T, timeoutMs = 20_000): Promise<Extract<BoardEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${type}' event within ${timeoutMs} ms`)), timeoutMs);
    eventWaiters.push({
      type,
      resolve: (event) => {
        clearTimeout(timer);
        resolve(event as Extract<BoardEvent, { type: T }>);
      },
    });
  });
}

async function openBootloader(onProgress?: (p: FlashProgress) => void) {
  const port = new SerialPort({ path: link, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  const bootloader = new Stm32UartBootloader(port, { port: link, onProgress });
  return {
    bootloader,
    port,
    async close() {
      bootloader.detach();
      await new Promise<void>((resolve) => port.close(() => resolve()));
    },
  };
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'tinyedge-vboard-test-'));
  link = path.join(workDir, 'tty');
  firmware = await buildHelloFirmware(workDir);
  const hello = new Uint8Array(await readFile(firmware.bin));
  image100k = new Uint8Array(100 * KiB);
  image100k.set(hello);
  for (let i = hello.length; i < image100k.length; i++) image100k[i] = (Math.imul(i, 2654435761) >>> 24) & 0xff;
  board = await serveVirtualBoard({
    target: 'qemu-stm32f405',
    link,
    onEvent: (event) => {
      events.push(event);
      eventWaiters = eventWaiters.filter((waiter) => {
        if (waiter.type !== event.type) return true;
        waiter.resolve(event);
        return false;
      });
    },
  });
});

afterAll(async () => {
  await board?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('virtual STM32F405 board (pty + AN3155 + QEMU)', () => {
  test('stm32flash -m 8n1 writes, verifies and reads back a 100 KB image', async () => {
    const imageFile = path.join(workDir, 'image100k.bin');
    const readBackFile = path.join(workDir, 'read-back.bin');
    await writeFile(imageFile, image100k);

    const started = Date.now();
    const write = await execa('stm32flash', ['-m', '8n1', '-b', '115200', '-w', imageFile, '-v', link], { all: true, reject: false });
    const writeMs = Date.now() - started;
    expect(write.exitCode, write.all).toBe(0);
    expect(write.all).toMatch(/Device ID\s*:\s*0x0413/);
    expect(write.all).toMatch(/Version\s*:\s*0x31/);

    const readStarted = Date.now();
    const read = await execa('stm32flash', ['-m', '8n1', '-r', readBackFile, '-S', `0x${FLASH.toString(16)}:${image100k.length}`, link], {
      all: true,
      reject: false,
    });
    const readMs = Date.now() - readStarted;
    expect(read.exitCode, read.all).toBe(0);
    expect(Buffer.compare(await readFile(readBackFile), Buffer.from(image100k))).toBe(0);
    expect(Buffer.compare(Buffer.from(board.flash.subarray(0, image100k.length)), Buffer.from(image100k))).toBe(0);
    // 100 KB spans sectors 0-4 (4 x 16 KB + 64 KB): stm32flash erases exactly those.
    expect(events).toContainEqual({ type: 'erase', sectors: [0, 1, 2, 3, 4] });
    console.log(`stm32flash over the pty: write+verify 100 KB ${writeMs} ms, read 100 KB ${readMs} ms`);
  });

  test('Stm32UartBootloader erases only the sectors the image covers, writes, verifies and reads back', async () => {
    const before = board.flash.slice();
    const image = image100k.slice(0, 20 * KiB).reverse();
    const progress: FlashProgress[] = [];
    const session = await openBootloader((p) => progress.push(p));
    try {
      const info = await session.bootloader.connect(0x413);
      expect(info).toMatchObject({ productId: 0x413, bootloaderVersion: 0x31 });
      expect(info.commands).toEqual([0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92]);
      const erasesBefore = events.filter((e) => e.type === 'erase').length;
      await session.bootloader.program(image, { address: FLASH, chip: chipByProductId(0x413)! });
      expect(events.filter((e) => e.type === 'erase').slice(erasesBefore)).toEqual([
        { type: 'erase', sectors: [0] },
        { type: 'erase', sectors: [1] },
      ]);
      const readBack = await session.bootloader.read(FLASH, image.length);
      expect(Buffer.compare(Buffer.from(readBack), Buffer.from(image))).toBe(0);
    } finally {
      await session.close();
    }
    // The rest of sector 1 is erased; sector 2 onwards still holds the previous image.
    expect(board.flash.subarray(20 * KiB, 32 * KiB).every((b) => b === 0xff)).toBe(true);
    expect(Buffer.compare(Buffer.from(board.flash.subarray(32 * KiB)), Buffer.from(before.subarray(32 * KiB)))).toBe(0);
    const last = (phase: string) => progress.filter((p) => p.phase === phase).pop();
    expect(last('erase')).toEqual({ phase: 'erase', done: 32 * KiB, total: 32 * KiB });
    expect(last('write')).toEqual({ phase: 'write', done: image.length, total: image.length });
    expect(last('verify')).toEqual({ phase: 'verify', done: image.length, total: image.length });
  });

  test('Stm32UartBootloader: 100 KB image through the pty (throughput figure)', async () => {
    const session = await openBootloader();
    try {
      await session.bootloader.connect(0x413);
      const started = Date.now();
      await session.bootloader.program(image100k, { address: FLASH, chip: chipByProductId(0x413)! });
      const programMs = Date.now() - started;
      const readStarted = Date.now();
      const readBack = await session.bootloader.read(FLASH, image100k.length);
      const readMs = Date.now() - readStarted;
      expect(Buffer.compare(Buffer.from(readBack), Buffer.from(image100k))).toBe(0);
      console.log(
        `Stm32UartBootloader over the pty: erase+write+verify 100 KB ${programMs} ms ` +
          `(${((100 * 1000) / programMs).toFixed(0)} KB/s), read 100 KB ${readMs} ms`,
      );
    } finally {
      await session.close();
    }
  });

  test('a wrong board is a clear error naming the port and both product ids', async () => {
    const session = await openBootloader();
    try {
      const error = await session.bootloader.connect(0x421).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BootloaderError);
      expect((error as Error).message).toBe(
        `${link}: bootloader Get ID: expected product id 0x421 (STM32F446), found 0x413 (STM32F405/F407/F415/F417): wrong board or wrong target?`,
      );
    } finally {
      await session.close();
    }
  });

  test('flashFirmware(ELF) + Go boots the firmware in QEMU; its UART is bridged both ways; exit returns to the bootloader', async () => {
    const started = nextEvent('firmware-started');
    const result = await flashFirmware({
      image: firmware.elf,
      target: loadTarget('qemu-stm32f405'),
      method: 'stm32-bootloader',
      port: link,
    });
    expect(result).toMatchObject({ method: 'uart-bootloader', address: FLASH, verified: true });
    await started;
    expect(board.mode).toBe('firmware');

    const console_ = await SerialText.open(link);
    try {
      await console_.waitFor(/HELLO tinyedge\r\n/);
      await console_.write('echo me');
      await console_.waitFor(/ECHO ME/);
      const exited = nextEvent('firmware-exited');
      const bootloaderAgain = nextEvent('bootloader');
      await console_.write('q');
      await console_.waitFor(/BYE\r\n/);
      expect(await exited).toMatchObject({ code: 0 });
      await bootloaderAgain;
    } finally {
      await console_.close();
    }

    // Back in the ROM: a fresh session syncs and identifies the chip; the flash kept the firmware.
    const session = await openBootloader();
    try {
      const info = await session.bootloader.connect(0x413);
      expect(info.productId).toBe(0x413);
      const elfImage = await readFile(firmware.bin);
      const readBack = await session.bootloader.read(FLASH, elfImage.length);
      expect(Buffer.compare(Buffer.from(readBack), elfImage)).toBe(0);
    } finally {
      await session.close();
    }
  });

  test('a firmware that crashes (lockup) is reported and the board returns to its bootloader', async () => {
    const session = await openBootloader();
    const console_ = new SerialText(session.port);
    try {
      await session.bootloader.connect(0x413);
      const started = nextEvent('firmware-started');
      await session.bootloader.go(FLASH);
      await started;
      await console_.waitFor(/HELLO tinyedge\r\n/);
      const exited = nextEvent('firmware-exited');
      const bootloaderAgain = nextEvent('bootloader');
      await console_.write('x');
      const exit = await exited;
      expect(exit.code).not.toBe(0);
      expect(exit.detail).toMatch(/Lockup/);
      await bootloaderAgain;
      await session.bootloader.sync();
      expect(await session.bootloader.getId()).toBe(0x413);
    } finally {
      console_.detach();
      await session.close();
    }
  });

  test('stm32flash -g starts the firmware; reset() takes the board back to the bootloader', async () => {
    const started = nextEvent('firmware-started');
    const go = await execa('stm32flash', ['-m', '8n1', '-g', `0x${FLASH.toString(16)}`, link], { all: true, reject: false });
    expect(go.exitCode, go.all).toBe(0);
    await started;
    const console_ = await SerialText.open(link);
    try {
      await console_.waitFor(/HELLO tinyedge\r\n/);
    } finally {
      await console_.close();
    }
    const bootloaderAgain = nextEvent('bootloader');
    await board.reset();
    await bootloaderAgain;
    expect(board.mode).toBe('bootloader');
  });
});

describe('virtual board set-up and modem lines', () => {
  test('only emulated STM32 targets can be served; a link path that is not a pty link is refused', async () => {
    await expect(serveVirtualBoard({ target: 'nucleo-f446re', link: path.join(workDir, 'x') })).rejects.toThrow(BoardError);
    await expect(serveVirtualBoard({ target: 'qemu-cortex-m4', link: path.join(workDir, 'x') })).rejects.toThrow(
      /virtual board qemu-cortex-m4: the virtual board plays an STM32 ROM bootloader/,
    );
    const taken = path.join(workDir, 'not-a-link');
    await writeFile(taken, 'mine');
    await expect(serveVirtualBoard({ target: 'qemu-stm32f405', link: taken })).rejects.toThrow(
      `virtual board qemu-stm32f405: ${taken} exists and is not a pseudo-terminal link: choose another --link path`,
    );
    expect(await readFile(taken, 'utf8')).toBe('mine');
  });

  test('without socat the board names the package to install', async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = path.join(workDir, 'no-such-dir');
    try {
      await expect(serveVirtualBoard({ target: 'qemu-stm32f405', link: path.join(workDir, 'y') })).rejects.toThrow(
        'virtual board qemu-stm32f405: socat is not installed (Debian/Ubuntu: sudo apt install socat)',
      );
    } finally {
      process.env.PATH = savedPath;
    }
  });

  test('DTR/RTS entry on a port without modem lines (a pty) fails clearly before any flashing', async () => {
    const image = path.join(workDir, 'pins.bin');
    await writeFile(image, Uint8Array.of(1, 2, 3, 4));
    const syncsBefore = events.filter((e) => e.type === 'synced').length;
    await expect(
      flashFirmware({ image, target: loadTarget('qemu-stm32f405'), method: 'uart-bootloader', port: link, bootPins: { reset: 'dtr', boot0: 'rts' } }),
    ).rejects.toThrow(new RegExp(`^${link}: bootloader reset: cannot set \\{"rts":true,"dtr":true\\}: .*ioctl`));
    expect(events.filter((e) => e.type === 'synced').length).toBe(syncsBefore);
  });

  test('board events read as one log line each, block traffic left out', () => {
    expect(describeBoardEvent({ type: 'erase', sectors: [0, 1] })).toBe('bootloader: erased sectors 0, 1');
    expect(describeBoardEvent({ type: 'go', address: 0x0800_0000 })).toBe('bootloader: Go 0x08000000');
    expect(describeBoardEvent({ type: 'command', command: 'Write Memory', address: 0x0800_0000, length: 256 })).toBeUndefined();
    expect(describeBoardEvent({ type: 'command', command: 'Get ID' })).toBe('bootloader: Get ID');
  });
});
