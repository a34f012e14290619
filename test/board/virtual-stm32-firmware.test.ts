/**
 * The real tinyedge firmware (built from the firmware helper's fixture library for qemu-stm32f405) flashed into the
 * virtual board through its ROM bootloader, started with Go, then driven over the same pty by DeviceLink: the
 * path a user with a serial-flashed board takes, end to end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DeviceLink } from '../../src/agent/device-link.js';
import { flashFirmware } from '../../src/agent/flash/index.js';
import { buildFirmware } from '../../src/build/firmware.js';
import { serveVirtualBoard, type BoardEvent, type VirtualBoard } from '../../src/board/virtual-stm32.js';
import { loadTarget } from '../../src/targets/index.js';
import { FIXTURE_BYTES, FIXTURE_DIR, fixtureInput, fixtureModel, fixtureOutput } from '../firmware/support/fixture.js';

let workDir: string;
let board: VirtualBoard;
const events: BoardEvent[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'tinyedge-vboard-fw-test-'));
  board = await serveVirtualBoard({ target: 'qemu-stm32f405', link: path.join(workDir, 'tty'), onEvent: (e) => events.push(e) });
});

afterAll(async () => {
  await board?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('tinyedge firmware through the virtual board', () => {
  test('flash the ELF over the ROM bootloader, Go, then HELLO and a model run over the same serial device', async () => {
    const target = loadTarget('qemu-stm32f405');
    const build = await buildFirmware({ target, libraryDir: FIXTURE_DIR, model: fixtureModel(), outDir: path.join(workDir, 'build') });
    const flashed = await flashFirmware({ image: build.elf, target, method: 'uart-bootloader', port: board.link });
    expect(flashed).toMatchObject({ method: 'uart-bootloader', address: 0x0800_0000, verified: true });
    expect(events.some((e) => e.type === 'go')).toBe(true);

    const port = new SerialPort({ path: board.link, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    try {
      const link = new DeviceLink(port, { port: board.link });
      const hello = await link.connect(5000);
      expect(hello).toMatchObject({ target: 'qemu-stm32f405', modelName: 'fixture', inputBytes: [FIXTURE_BYTES] });
      const input = fixtureInput();
      await link.setInput(0, input);
      await link.run({ runs: 1, warmups: 0 });
      expect(Array.from(await link.getOutput(0))).toEqual(Array.from(fixtureOutput(input)));
    } finally {
      await new Promise<void>((resolve) => port.close(() => resolve()));
    }
    expect(board.mode).toBe('firmware');
    await board.reset();
    expect(board.mode).toBe('bootloader');
  });
});
