/**
 * The whole on-device path against emulated boards: the fixture library built for each virtual target boots in
 * QEMU, answers HELLO, takes an input, runs with per-layer timing and gives back the right output.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DeviceLink } from '../../src/agent/device-link.js';
import { startQemu, type QemuBoard } from '../../src/agent/qemu.js';
import { buildFirmware } from '../../src/build/firmware.js';
import { loadTarget } from '../../src/targets/index.js';
import {
  FIXTURE_BYTES,
  FIXTURE_DIR,
  fixtureInput,
  fixtureModel,
  fixtureOutput,
  removeTemporaryDirectories,
  temporaryDirectory,
} from './support/fixture.js';

const boards: QemuBoard[] = [];
afterAll(async () => {
  await Promise.all(boards.map((b) => b.stop()));
  removeTemporaryDirectories();
});

async function boot(targetName: string) {
  const target = loadTarget(targetName);
  const build = await buildFirmware({ target, libraryDir: FIXTURE_DIR, model: fixtureModel(), outDir: temporaryDirectory(targetName) });
  const started = performance.now();
  const board = await startQemu({ target, elf: build.elf });
  boards.push(board);
  const link = new DeviceLink(board.stream, { port: board.port });
  const ready = await link.waitForReady(5000);
  const bootMs = performance.now() - started;
  return { target, build, board, link, ready, bootMs };
}

describe.each([
  // [target, timer ticks per instruction count unit, exact]
  ['qemu-stm32f405', 1],
  ['qemu-cortex-m4', 40],
  ['qemu-cortex-m7', 40],
  ['qemu-cortex-m3', 40],
] as const)('fixture model on %s', (targetName, unitsPerTick) => {
  it('boots, answers HELLO, runs the model and returns the right bytes with per-layer instruction counts', async () => {
    const { link, ready, bootMs, board } = await boot(targetName);
    expect(ready).toEqual({ firmwareVersion: expect.any(String), target: targetName });

    const hello = await link.hello();
    expect(hello).toMatchObject({
      protocolVersion: 1,
      target: targetName,
      timerUnit: 'instructions',
      unitsPerTick,
      modelName: 'fixture',
      modelHash: '00f1f7e000000001',
      inputBytes: [FIXTURE_BYTES],
      outputBytes: [FIXTURE_BYTES],
      layerCount: 2,
      arenaBytes: FIXTURE_BYTES,
      modelMismatch: false,
    });
    // QEMU's STM32 RCC never reports the PLL ready: the firmware says it stayed on the 16 MHz HSI.
    if (targetName === 'qemu-stm32f405') expect(hello).toMatchObject({ clockHz: 16_000_000, pllLocked: false });
    expect(await link.layerInfo(1)).toEqual({ index: 1, name: 'reverse', op: 'Reverse' });

    const roundTrips: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await link.hello();
      roundTrips.push(performance.now() - t);
    }

    const input = fixtureInput();
    await link.setInput(0, input);
    const result = await link.run({ runs: 3, warmups: 1 });
    expect(Array.from(await link.getOutput(0))).toEqual(Array.from(fixtureOutput(input)));

    expect(result.unit).toBe('instructions');
    expect(result.runs).toHaveLength(3);
    const [first, second, third] = result.runs;
    for (const run of result.runs) {
      expect(run.layers).toHaveLength(2);
      // Reversing 2 KB takes more than adding one to it; both take at least a few instructions per byte.
      expect(run.layers[0]!).toBeGreaterThan(2 * FIXTURE_BYTES);
      expect(run.layers[1]!).toBeGreaterThan(run.layers[0]!);
      const layerSum = run.layers[0]! + run.layers[1]!;
      expect(Math.abs(run.total - layerSum) / run.total).toBeLessThan(0.01);
    }
    if (unitsPerTick === 1) {
      // TIM2 under -icount shift=0: exact instruction counts, identical from run to run.
      expect(second).toEqual(first);
      expect(third).toEqual(first);
    } else {
      // The 25 MHz CMSDK timer ticks every 40 instructions: runs agree to one tick.
      expect(Math.abs(second!.total - first!.total)).toBeLessThanOrEqual(unitsPerTick);
    }

    roundTrips.sort((a, b) => a - b);
    console.info(
      `${targetName}: boot to READY ${bootMs.toFixed(0)} ms, HELLO round trip median ${roundTrips[5]!.toFixed(1)} ms, ` +
        `run ${first!.total} instructions (layers ${first!.layers.join(' + ')})`,
    );
    await link.close();
    await board.stop();
    const exit = await board.exited;
    expect(exit.stderr).not.toMatch(/Lockup/);
  });
});

describe('fault report', () => {
  it('turns a fault in the model into a DeviceFaultError with PC, LR and CFSR', async () => {
    const { fixtureVariant } = await import('./support/fixture.js');
    const { DeviceFaultError } = await import('../../src/agent/errors.js');
    const { execa } = await import('execa');
    const target = loadTarget('qemu-stm32f405');
    const build = await buildFirmware({ target, libraryDir: fixtureVariant({ trap: true }), model: fixtureModel(), outDir: temporaryDirectory('trap') });
    const board = await startQemu({ target, elf: build.elf });
    boards.push(board);
    const link = new DeviceLink(board.stream, { port: board.port });
    await link.connect();
    await link.setInput(0, fixtureInput());
    const error = await link.run({ runs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceFaultError);
    const fault = (error as InstanceType<typeof DeviceFaultError>).fault;
    expect(fault.exception).toBe(3); // HardFault, escalated from the UsageFault
    expect(fault.cfsr & (1 << 16)).not.toBe(0); // UNDEFINSTR: the trap instruction
    expect(fault.hfsr & (1 << 30)).not.toBe(0); // FORCED
    const { stdout } = await execa('arm-none-eabi-nm', ['-S', build.elf]);
    const [address, size] = stdout.split('\n').find((l) => l.endsWith(' tinyedge_fixture_run'))!.split(' ').map((h) => parseInt(h, 16));
    expect(fault.pc).toBeGreaterThanOrEqual(address! & ~1);
    expect(fault.pc).toBeLessThan((address! & ~1) + size!);
    expect((error as Error).message).toMatch(/^qemu-stm32f405 \(netduinoplus2\): the firmware faulted \(exception 3\) at PC=0x[0-9a-f]{8} LR=0x[0-9a-f]{8} CFSR=0x00010000/);
    // The firmware has stopped: later requests fail the same way instead of waiting.
    await expect(link.hello()).rejects.toBeInstanceOf(DeviceFaultError);
    await link.close();
  });
});
