/**
 * The MLPerf Tiny DUT text protocol of the firmware, in QEMU (qemu-stm32f405), driven as the MLCommons runner
 * drives it: every line of every answer is checked against the protocol's formats, the framed protocol keeps working
 * on the same console, and bad commands get e-[...] then m-ready. The fixture library stands in for the models:
 * add one to every byte, then reverse them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, Duplex } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { DeviceLink } from '../../src/agent/device-link.js';
import { DeviceTimeoutError } from '../../src/agent/errors.js';
import { MLPERF_LINES, MlperfClient, MlperfReplyError, parseResultValues } from '../../src/agent/mlperf.js';
import { startQemu, type QemuBoard } from '../../src/agent/qemu.js';
import { buildFirmware, type FirmwareModel } from '../../src/build/firmware.js';
import { UsageError } from '../../src/errors.js';
import { loadTarget } from '../../src/targets/index.js';
import {
  FIXTURE_BYTES,
  FIXTURE_DIR,
  fixtureInput,
  fixtureModel,
  fixtureOutput,
  fixtureVariant,
  removeTemporaryDirectories,
  temporaryDirectory,
} from '../firmware/support/fixture.js';

const TARGET = 'qemu-stm32f405';
/** The HELLO's clock in QEMU (the STM32 reset clock): an emulated microsecond is this many instructions. */
const QEMU_MHZ = 16;

const boards: QemuBoard[] = [];
afterAll(async () => {
  await Promise.all(boards.map((b) => b.stop()));
  removeTemporaryDirectories();
});

async function boot(model: FirmwareModel, libraryDir = FIXTURE_DIR) {
  const target = loadTarget(TARGET);
  const build = await buildFirmware({ target, libraryDir, model, outDir: temporaryDirectory('mlperf') });
  const board = await startQemu({ target, elf: build.elf });
  boards.push(board);
  const client = new MlperfClient(board.stream, { port: board.port });
  const link = new DeviceLink(board.stream, { port: board.port });
  // The STM32 USART drops what arrives before the firmware enables it: wait for the READY frame.
  expect(await client.waitForReady(5000)).toBe(true);
  return { board, client, link };
}

/** A copy of the fixture library whose header states input and output quantization, as generated libraries do. */
function quantizedFixture(bytes: number, quant: { inScale: string; inZero: number; outScale: string; outZero: number }): string {
  const dir = fixtureVariant({ bytes });
  const header = path.join(dir, 'tinyedge_fixture.h');
  const text = readFileSync(header, 'utf8').replace(
    '#endif',
    `#define TINYEDGE_FIXTURE_INPUT0_SCALE ${quant.inScale}\n#define TINYEDGE_FIXTURE_INPUT0_ZERO_POINT ${quant.inZero}\n` +
      `#define TINYEDGE_FIXTURE_OUTPUT0_SCALE ${quant.outScale}\n#define TINYEDGE_FIXTURE_OUTPUT0_ZERO_POINT ${quant.outZero}\n#endif`,
  );
  writeFileSync(header, text);
  return dir;
}

/** What the firmware prints for a real: six decimals, rounded (the values here are exact in float). */
const sixDecimals = (values: number[]) => values.map((v) => Number(v.toFixed(6)));

describe('MLPerf Tiny text protocol on the fixture firmware', () => {
  it("answers the runner's performance sequence line by line in the protocol's formats, then the framed protocol still works", async () => {
    const { board, client, link } = await boot(fixtureModel());
    const input = fixtureInput();
    const expected = Array.from(fixtureOutput(input));

    expect(await client.sendCommand('name')).toEqual(['m-name-dut-[tinyedge]']);
    const profile = await client.sendCommand('profile');
    expect(profile).toHaveLength(2);
    expect(profile[0]).toMatch(MLPERF_LINES.profile);
    expect(profile[0]).toMatch(new RegExp(`^m-profile-\\[tinyedge \\d+\\.\\d+\\.\\d+\\S* ${TARGET}\\]$`));
    // Without an mlperfModelId the model id is the library prefix.
    expect(profile[1]).toBe('m-model-[fixture]');

    // db load, then 31 bytes per db command: silent until the last, which says m-load-done.
    expect(await client.sendCommand(`db load ${FIXTURE_BYTES}`)).toEqual([`m-[Expecting ${FIXTURE_BYTES} bytes]`]);
    const bytes = new Uint8Array(input.buffer);
    const chunks = Math.ceil(FIXTURE_BYTES / 31);
    for (let i = 0; i < chunks; i++) {
      const chunk = bytes.subarray(i * 31, Math.min((i + 1) * 31, FIXTURE_BYTES));
      const hex = Buffer.from(chunk).toString('hex');
      // The runner sends lower case; upper case is as good.
      const lines = await client.sendCommand(`db ${i % 2 ? hex.toUpperCase() : hex}`);
      expect(lines).toEqual(i === chunks - 1 ? ['m-load-done'] : []);
    }

    const infer = await client.sendCommand('infer 10 2');
    expect(infer).toHaveLength(7);
    expect(infer.slice(0, 4)).toEqual(['m-warmup-start-2', 'm-warmup-done', 'm-infer-start-10', expect.stringMatching(MLPERF_LINES.lap)]);
    expect(infer[4]).toMatch(MLPERF_LINES.lap);
    expect(infer[5]).toBe('m-infer-done');
    expect(infer[6]).toMatch(MLPERF_LINES.results);
    const [start, end] = [infer[3]!, infer[4]!].map((l) => Number(MLPERF_LINES.lap.exec(l)![1]));
    expect(end).toBeGreaterThan(start!);

    // The fixture states no quantization: outputs are printed as they are, with six decimals.
    const printed = MLPERF_LINES.results.exec(infer[6]!)![1]!;
    expect(printed.split(',')[0]).toMatch(/^-?\d+\.\d{6}$/);
    expect(parseResultValues(printed)).toEqual(expected);
    expect(await client.sendCommand('results')).toEqual([infer[6]]);

    const now = Number(MLPERF_LINES.lap.exec((await client.sendCommand('timestamp'))[0]!)![1]);
    expect(now).toBeGreaterThan(end!);

    // The framed protocol on the same console: the output of the text protocol's inference, then a timed RUN.
    const hello = await link.hello();
    expect(hello).toMatchObject({ target: TARGET, clockHz: QEMU_MHZ * 1_000_000, timerUnit: 'instructions', unitsPerTick: 1 });
    expect(Array.from(await link.getOutput(0))).toEqual(expected);
    const run = await link.run({ runs: 1 });
    // m-lap-us are instructions / MHz: ten runs took ten times what one RUN measures (its per-layer hook costs a
    // little more than the MLPerf one's).
    const elapsedInstructions = (end! - start!) * QEMU_MHZ;
    expect(Math.abs(elapsedInstructions - 10 * run.runs[0]!.total) / (10 * run.runs[0]!.total)).toBeLessThan(0.02);
    console.info(
      `${TARGET}: infer 10 2 took ${end! - start!} emulated us (${elapsedInstructions} instructions), one framed RUN ${run.runs[0]!.total}`,
    );

    // And the text protocol after the framed one: an input written by SET_INPUT runs under infer.
    const other = fixtureInput(FIXTURE_BYTES, 3);
    await link.setInput(0, other);
    const again = await client.infer(1, 0);
    expect(again.results).toEqual(Array.from(fixtureOutput(other)));
    expect(again.startUs).toBeGreaterThan(now);
    expect(client.stats.strayLines).toBe(0);
    expect(link.decoderStats.damagedFrames).toBe(0);

    await link.close();
    await board.stop();
    expect((await board.exited).stderr).not.toMatch(/Lockup/);
  });

  it('answers bad commands with e-[...] then m-ready, and carries on', async () => {
    const { board, client, link } = await boot(fixtureModel());
    const refused = async (command: string) => {
      const lines = await client.sendCommand(command);
      expect(lines, command).toHaveLength(1);
      expect(lines[0], command).toMatch(MLPERF_LINES.error);
      return lines[0]!;
    };

    // 80 characters fit the command buffer; 81 do not.
    const fits = `db ${'0'.repeat(77)}`;
    expect(fits).toHaveLength(80);
    expect(await refused(fits)).toMatch(/two hex digits per byte/);
    expect(await refused(`db ${'ab'.repeat(60)}`)).toBe('e-[command longer than 80 characters]');
    expect(await refused('frobnicate 1 2')).toBe("e-[unknown command 'frobnicate', try name, profile, db, infer, results or timestamp]");
    // Host text that could end the brackets early is defused.
    expect(await refused('what]now')).toMatch(/^e-\[unknown command 'what\?now'/);
    expect(await refused('results')).toBe('e-[no inference has run yet: infer first]');
    expect(await refused('db 00')).toBe('e-[db needs a db load N first]');
    expect(await refused('db load 0')).toBe('e-[db load needs more than 0 bytes]');
    expect(await refused(`db load ${FIXTURE_BYTES + 1}`)).toBe(
      `e-[db load of ${FIXTURE_BYTES + 1} bytes does not fit the input buffer of ${FIXTURE_BYTES} bytes]`,
    );
    expect(await refused('db load 12x')).toBe('e-[db load takes one decimal byte count]');
    expect(await client.sendCommand('db load 2')).toEqual(['m-[Expecting 2 bytes]']);
    expect(await refused('db 0g')).toBe("e-[db takes hex digits, not 'g']");
    expect(await client.sendCommand('db 0102ff')).toEqual(['m-load-done']);
    expect(await refused('db 03')).toBe('e-[every byte of the last db load has arrived: db load again]');
    expect(await refused('infer 0 1')).toBe('e-[infer N needs a decimal N > 0]');
    expect(await refused('infer 1 -1')).toBe('e-[infer N W needs a decimal W >= 0]');
    expect(await refused('infer 99999999999 1')).toBe('e-[infer N needs a decimal N > 0]');
    expect(await refused('name please')).toBe('e-[name takes no arguments]');
    expect(await refused('a b c d e')).toBe('e-[too many arguments]');
    // A bare '%' (a host flushing a half-sent command) is answered with m-ready alone.
    expect(await client.sendCommand('')).toEqual([]);
    await expect(client.results()).rejects.toThrow(MlperfReplyError);

    // A command broken off by a framed request is dropped; both protocols go on.
    board.stream.write('nam');
    expect((await link.hello()).modelName).toBe('fixture');
    expect(await client.name()).toBe('tinyedge');
    // Defaults as the reference firmware: infer alone is one run after ten warm-ups.
    const lines = await client.sendCommand('infer');
    expect(lines.slice(0, 3)).toEqual(['m-warmup-start-10', 'm-warmup-done', 'm-infer-start-1']);
    expect(client.stats.strayLines).toBe(0);
    await link.close();
  });
});

describe('MLPerf Tiny inputs and results per model', () => {
  it('ic01: RGB bytes go in as x - 128, results are the dequantized outputs', async () => {
    const bytes = 3072; // 32 x 32 x 3
    const library = quantizedFixture(bytes, { inScale: '0.0078125f', inZero: -1, outScale: '0.25f', outZero: -3 });
    const { client } = await boot({ ...fixtureModel(bytes), mlperfModelId: 'ic01' }, library);
    expect(await client.profile()).toMatchObject({ model: 'ic01' });
    const pixels = Uint8Array.from({ length: bytes }, (_, i) => (i * 37 + 11) & 0xff);
    await client.load(pixels);
    const inference = await client.infer(2, 1);
    const modelInput = Int8Array.from(pixels, (x) => x - 128);
    const expected = Array.from(fixtureOutput(modelInput), (q) => (q - -3) * 0.25);
    expect(inference.results).toEqual(sixDecimals(expected));
  });

  it('ad01: float32 values are quantized with the input scale and zero point, the result is the reconstruction MSE', async () => {
    const elements = 640; // 5 frames x 128 mel bins
    const quant = { inScale: 0.5, inZero: 3, outScale: 0.25, outZero: -2 };
    const library = quantizedFixture(elements, { inScale: '0.5f', inZero: 3, outScale: '0.25f', outZero: -2 });
    const { client } = await boot({ ...fixtureModel(elements), mlperfModelId: 'ad01' }, library);
    expect(await client.profile()).toMatchObject({ model: 'ad01' });
    // Values around the int8 range, with exact halves (round away from zero) and some that saturate.
    const values = Float32Array.from({ length: elements }, (_, i) => ((i * 53) % 301) / 4 - 37.5 + (i % 7 === 0 ? 0.25 : 0));
    await client.load(new Uint8Array(values.buffer));
    const quantized = Int8Array.from(values, (x) => {
      const scaled = x / quant.inScale;
      const rounded = Math.sign(scaled) * Math.floor(Math.abs(scaled) + 0.5);
      return Math.min(127, Math.max(-128, rounded + quant.inZero));
    });
    // The score in the firmware's float32 arithmetic, step by step.
    const f = Math.fround;
    let sum = 0;
    fixtureOutput(quantized).forEach((q, i) => {
      const difference = f(f((q - quant.outZero) * quant.outScale) - values[i]!);
      sum = f(sum + f(difference * difference));
    });
    const score = f(sum / elements);
    const inference = await client.infer(3, 0);
    expect(inference.results).toHaveLength(1);
    expect(Math.abs(inference.results[0]! - score)).toBeLessThanOrEqual(0.6e-6);
    // A db load that is not whole float32 values is refused.
    await expect(client.sendCommand('db load 6')).resolves.toEqual(['e-[db load of float32 values needs a multiple of 4 bytes]']);
    // The score belongs to the inference: a new db load does not change what results prints.
    expect(await client.results()).toEqual(inference.results);
  });
});

describe('MLPerf model id', () => {
  it('refuses an id the runner could not read back from m-model-[...], before compiling anything', async () => {
    const build = buildFirmware({
      target: TARGET,
      libraryDir: FIXTURE_DIR,
      model: { ...fixtureModel(), mlperfModelId: 'kws]01' },
      outDir: temporaryDirectory('bad-id'),
    });
    await expect(build).rejects.toThrow(UsageError);
    await expect(build).rejects.toThrow("MLPerf model id 'kws]01' must be 1 to 32 letters, digits, '_', '.' or '-'");
  });
});

describe('MlperfClient', () => {
  /** A device that hears everything and never answers. */
  function silentDevice(): Duplex {
    const toDevice = new PassThrough();
    const fromDevice = new PassThrough();
    return Duplex.from({ writable: toDevice, readable: fromDevice });
  }

  it('gives up on a command with a DeviceTimeoutError naming the port and the command', async () => {
    const client = new MlperfClient(silentDevice(), { port: '/dev/ttyACM7', lineTimeoutMs: 50 });
    await expect(client.sendCommand('name')).rejects.toThrow(DeviceTimeoutError);
    await expect(client.sendCommand('name')).rejects.toThrow("/dev/ttyACM7: no line of the answer to 'name' within 50 ms");
    await client.close();
  });

  it('refuses a command that would not reach the device as one command', async () => {
    const client = new MlperfClient(silentDevice(), { port: 'p' });
    await expect(client.sendCommand('name%profile')).rejects.toThrow(/printable ASCII without '%'/);
    await expect(client.sendCommand('name\n')).rejects.toThrow(/printable ASCII without '%'/);
    await client.close();
  });

  it('reads results as the runner does', () => {
    expect(parseResultValues('0.250000, 1.5,-2,nan,inf,-inf,1e3,')).toEqual([0.25, 1.5, -2, NaN, Infinity, -Infinity, 1000]);
    expect(parseResultValues('1,x')).toEqual([1, undefined]);
  });
});
