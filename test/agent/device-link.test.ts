/**
 * DeviceLink against the real firmware in QEMU, with the traffic damaged on purpose: every fault is detected and
 * retried, and what comes back is still exactly right.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceLink, type RunResult } from '../../src/agent/device-link.js';
import { DeviceReplyError, DeviceTimeoutError } from '../../src/agent/errors.js';
import { HEADER_BYTES } from '../../src/agent/frame.js';
import { startQemu, type QemuBoard } from '../../src/agent/qemu.js';
import { buildFirmware } from '../../src/build/firmware.js';
import { loadTarget } from '../../src/targets/index.js';
import {
  FIXTURE_DIR,
  fixtureInput,
  fixtureModel,
  fixtureOutput,
  removeTemporaryDirectories,
  temporaryDirectory,
} from '../firmware/support/fixture.js';
import { FaultyStream } from './support/faulty-stream.js';

let board: QemuBoard;
let stream: FaultyStream;
let link: DeviceLink;
let clean: RunResult;
const input = fixtureInput();
const expected = Array.from(fixtureOutput(input));

beforeAll(async () => {
  const target = loadTarget('qemu-stm32f405');
  const build = await buildFirmware({ target, libraryDir: FIXTURE_DIR, model: fixtureModel(), outDir: temporaryDirectory('link') });
  board = await startQemu({ target, elf: build.elf });
  stream = new FaultyStream(board.stream);
  // Generous: a 2 KB upload takes up to ~0.5 s when the machine is loaded (CI runs other tests beside this one).
  link = new DeviceLink(stream, { port: board.port, timeoutMs: 2000, retries: 2 });
  await link.connect();
  await link.setInput(0, input);
  clean = await link.run({ runs: 2 });
});

afterAll(async () => {
  await link?.close();
  await board?.stop();
  removeTemporaryDirectories();
});

async function expectRetried(action: () => Promise<unknown>): Promise<void> {
  const before = link.stats.retries;
  await action();
  expect(link.stats.retries).toBeGreaterThan(before);
}

describe('DeviceLink over a damaged line', () => {
  it('resends a request the device received with a flipped bit (the device says so at once)', async () => {
    stream.damageWrite(HEADER_BYTES + 20, 'flip');
    await expectRetried(() => link.setInput(0, input));
    expect(Array.from(await link.getOutput(0))).toEqual(expected);
  });

  it('resends a request that lost a byte on the way (the device stays silent)', async () => {
    stream.damageWrite(HEADER_BYTES + 3, 'drop');
    await expectRetried(() => link.setInput(0, input));
    await link.run({ runs: 1 });
    expect(Array.from(await link.getOutput(0))).toEqual(expected);
  });

  it('asks again when a reply arrives damaged', async () => {
    stream.damageRead(HEADER_BYTES + 100, 'flip');
    let output: Int8Array | undefined;
    await expectRetried(async () => (output = await link.getOutput(0)));
    expect(Array.from(output!)).toEqual(expected);
  });

  it('asks again when a reply loses a byte', async () => {
    stream.damageRead(HEADER_BYTES + 50, 'drop');
    let output: Int8Array | undefined;
    await expectRetried(async () => (output = await link.getOutput(0)));
    expect(Array.from(output!)).toEqual(expected);
  });

  it('repeats a run whose timing frame was damaged, and gets the same instruction counts', async () => {
    stream.damageRead(HEADER_BYTES + 6, 'flip');
    let result: RunResult | undefined;
    await expectRetried(async () => (result = await link.run({ runs: 2 })));
    expect(result).toEqual(clean);
  });

  it('waits for replies that are late but within the time-out, with nothing resent', async () => {
    stream.delayReads(600);
    try {
      const before = link.stats.retries;
      expect(Array.from(await link.getOutput(0))).toEqual(expected);
      expect(await link.run({ runs: 2 })).toEqual(clean);
      expect(link.stats.retries).toBe(before);
    } finally {
      stream.delayReads(0);
    }
  });

  it('a reply that arrives after the time-out is never taken for the answer to a later request', async () => {
    // The first HELLO's reply comes 2.5 s late: the link asks again; the stale reply, when it lands, must be
    // recognised by its sequence number and dropped, so every answer that follows is the right one.
    stream.delayReads(2500);
    const hello = link.hello();
    await new Promise((resolve) => setTimeout(resolve, 100));
    stream.delayReads(0);
    expect((await hello).target).toBe('qemu-stm32f405');
    expect(Array.from(await link.getOutput(0))).toEqual(expected);
    expect(await link.run({ runs: 2 })).toEqual(clean);
  });

  it('skips garbage in front of a reply', async () => {
    stream.damageRead(0, 'garbage');
    const before = link.decoderStats.bytesDiscarded;
    expect((await link.hello()).target).toBe('qemu-stm32f405');
    expect(link.decoderStats.bytesDiscarded).toBeGreaterThan(before);
  });

  it('gives up with a DeviceTimeoutError naming the port when the device never hears the request', async () => {
    stream.swallowWrites(3);
    await expect(link.hello()).rejects.toThrow(DeviceTimeoutError);
    await expect(link.hello()).resolves.toMatchObject({ target: 'qemu-stm32f405' });
    stream.swallowWrites(3);
    await expect(link.layerInfo(0)).rejects.toThrow(
      /^qemu-stm32f405 \(netduinoplus2\): LAYER_INFO failed after 3 attempts: no reply within 2000 ms$/,
    );
  });

  it('reports what the firmware refuses as a DeviceReplyError', async () => {
    await expect(link.layerInfo(7)).rejects.toThrow(DeviceReplyError);
    await expect(link.layerInfo(7)).rejects.toThrow(/the device refused LAYER_INFO: no such layer \(error 4\)/);
    await expect(link.setInput(0, new Int8Array(10))).rejects.toThrow(/input 0 takes 2048 bytes, got 10/);
  });
});
