/**
 * The deploy owner's commands as users run them (the real built `tinyedge`): deploy to the default virtual board
 * with every output format, report, build for every board (real ones: compile and link, not run), flash through a
 * `board serve` board, ports, and the error paths: unknown target, `--target stm32` with no board, a port that does
 * not exist or is busy, the wrong board, a model too large for the chip. The file prints its total time.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { loadAllTargets } from '../../src/targets/index.js';
import { expectOneLineError, hasShared, repoRoot, sharedModel, tinyedge } from './cli-harness.js';

const started = Date.now();
const kws = resolve(repoRoot, 'examples/kws/kws_ref_model.tflite');
const kwsExpected = JSON.parse(readFileSync(resolve(repoRoot, 'examples/kws/expected.json'), 'utf8')) as { outputs: { data: number[] }[] };
const scratch = mkdtempSync(join(tmpdir(), 'tinyedge-cli-deploy-'));
const file = (name: string) => join(scratch, name);
/**
 * An error after progress lines: the progress stays (it tells how far the command got), the error is the last line,
 * the only one that starts with 'tinyedge:', and there is no stack trace.
 */
function expectErrorAfterProgress(result: { stderr: string; stdout: string; code: number | null }): string {
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  const errors = lines.filter((line) => line.startsWith('tinyedge: '));
  expect(errors).toHaveLength(1);
  expect(lines.at(-1)).toBe(errors[0]);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  return errors[0]!;
}

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  console.log(`test/cli/deploy.test.ts: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

describe('tinyedge deploy', () => {
  it('deploys the bundled KWS model to the default virtual board: JSON report on stdout, files, kept project', () => {
    const result = tinyedge(['deploy', kws, '--json', '--runs', '3', '--report', file('kws.json'), '--html', file('kws.html'), '--keep', file('kws-fw')]);
    expect(result.stderr).not.toMatch(/internal error/);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      schema: 'tinyedge.deploy/1',
      model: { path: kws, name: 'kws_ref_model', macs: 2_656_768 },
      target: { name: 'qemu-stm32f405', core: 'cortex-m4', clockHz: 168_000_000, emulated: true },
      latency: { unit: 'instructions', runs: 3, warmups: 1 },
      validation: { bitExact: true, mismatches: 0, maxAbsDiff: 0 },
    });
    expect(report.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const key of ['flashBytes', 'ramBytes', 'arenaBytes', 'weightsBytes', 'codeBytes']) expect(report.memory[key]).toBeGreaterThan(0);
    for (const key of ['min', 'median', 'max', 'ms']) expect(report.latency[key]).toBeGreaterThan(0);
    expect(report.layers).toHaveLength(13);
    for (const layer of report.layers) expect(Object.keys(layer)).toEqual(expect.arrayContaining(['name', 'op', 'macs', 'time']));
    expect(report.outputs[0]).toMatchObject({ name: 'Identity', dtype: 'int8', shape: [1, 12] });
    // The report files hold the same report; the HTML page is self-contained.
    expect(JSON.parse(readFileSync(file('kws.json'), 'utf8'))).toEqual(report);
    expect(readFileSync(file('kws.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/i);
    expect(existsSync(join(file('kws-fw'), 'Makefile'))).toBe(true);
    expect(existsSync(join(file('kws-fw'), 'firmware.elf'))).toBe(true);
    // Progress on stderr, through the ROM bootloader.
    expect(result.stderr).toMatch(/^flash +[\d,]+ B at 0x08000000 with uart-bootloader via .*, read back and verified/m);
    expect(result.stderr).toMatch(/^validate +bit-exact/m);
  });

  it('--input: the example input gives the expected scores; the table is the default output', () => {
    const result = tinyedge(['deploy', kws, '--input', resolve(repoRoot, 'examples/kws/input.npy'), '--runs', '1', '--warmups', '0']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Deployed .*kws_ref_model\.tflite to qemu-stm32f405/);
    expect(result.stdout).toMatch(/validation +bit-exact/);
    const report = JSON.parse(readFileSync(file('kws.json'), 'utf8'));
    expect(report.outputs[0].data).toHaveLength(kwsExpected.outputs[0]!.data.length);
  });

  it('refuses to overwrite a report without --force, before deploying anything', () => {
    const result = tinyedge(['deploy', kws, '--report', file('kws.json')]);
    expect(result.code).toBe(ExitCode.usage);
    expect(expectOneLineError(result)).toBe(`tinyedge: ${file('kws.json')} already exists (use --force to overwrite it)`);
  });

  it('unknown target: a usage error listing the targets', () => {
    const result = tinyedge(['deploy', kws, '--target', 'nosuch']);
    expect(result.code).toBe(ExitCode.usage);
    expect(expectOneLineError(result)).toMatch(/^tinyedge: unknown target 'nosuch'; known targets: .*nucleo-f446re.*qemu-stm32f405/);
  });

  it('--target stm32 with no ST board connected: a device error listing the virtual targets', () => {
    const result = tinyedge(['deploy', kws, '--target', 'stm32']);
    expect(result.code).toBe(ExitCode.device);
    expect(expectOneLineError(result)).toMatch(/^tinyedge: --target stm32: no ST board found .*use a virtual target instead: .*qemu-stm32f405/);
  });

  it('a port that does not exist: a device error before anything is built', () => {
    const result = tinyedge(['deploy', kws, '--port', '/dev/tinyedge-no-such-port']);
    expect(result.code).toBe(ExitCode.device);
    expect(expectErrorAfterProgress(result)).toBe('tinyedge: /dev/tinyedge-no-such-port: no such serial port (`tinyedge ports` lists the ports there are)');
  });

  it('--runs 0 is a usage error', () => {
    const result = tinyedge(['deploy', kws, '--runs', '0']);
    expect(result.code).toBe(ExitCode.usage);
    expectOneLineError(result);
  });
});

describe('tinyedge report', () => {
  it('shows one report as a table, compares several side by side, and prints JSON', () => {
    const one = tinyedge(['report', file('kws.json')]);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^Deployed /);
    const two = tinyedge(['report', file('kws.json'), file('kws.json')]);
    expect(two.code).toBe(0);
    expect(two.stdout).toContain('kws_ref_model');
    const json = tinyedge(['report', file('kws.json'), file('kws.json'), '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ schema: 'tinyedge.compare/1', entries: [{ ratio: 1 }, { ratio: 1 }] });
    const missing = tinyedge(['report', file('nothing.json')]);
    expect(missing.code).not.toBe(0);
    expectOneLineError(missing);
  });
});

describe('tinyedge build', () => {
  const realBoards = loadAllTargets().filter((t) => !t.emulated).map((t) => t.name);

  it.each(realBoards)('compiles and links KWS for the real board %s; the build says it was not run', (name) => {
    const result = tinyedge(['build', kws, '--target', name, '-o', file(`build-${name}`), '--json']);
    expect(result.code).toBe(0);
    const build = JSON.parse(result.stdout);
    expect(build).toMatchObject({ target: { name, emulated: false }, ran: false, library: { prefix: 'kws_ref_model', layers: 13 } });
    expect(build.note).toMatch(new RegExp(`^not run: ${name} is a real board; compiled and linked only`));
    expect(build.sizes.flashUsed).toBeLessThanOrEqual(build.sizes.flashSize);
    expect(build.sizes.ramUsed).toBeLessThanOrEqual(build.sizes.ramSize);
    expect(build.sizes.flashUsed).toBeGreaterThan(build.library.weightsBytes);
    expect(existsSync(build.files.elf)).toBe(true);
    expect(existsSync(join(build.dir, 'Makefile'))).toBe(true);
  });

  it('builds for the default virtual board, with the sizes in a table', () => {
    const result = tinyedge(['build', kws, '-o', file('build-default')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^built kws_ref_model for qemu-stm32f405 in /);
    expect(result.stdout).toMatch(/^ {2}flash +[\d,]+ +1,048,576 +[\d.]+ %$/m);
    expect(result.stdout).toMatch(/^ {2}RAM +[\d,]+ +131,072 +[\d.]+ %$/m);
    expect(existsSync(join(file('build-default'), 'firmware.elf'))).toBe(true);
  });

  it.skipIf(!hasShared)('a model too large for the chip fails before compiling, naming the sizes; no directory is left', () => {
    const mobilenet = tinyedge(['build', sharedModel('tflite-uint8/mobilenet_v1_0.25_128_quant.tflite'), '--target', 'qemu-stm32f405', '-o', file('too-big')]);
    expect(mobilenet.code).toBe(ExitCode.build);
    expect(expectErrorAfterProgress(mobilenet)).toBe(
      'tinyedge: the model does not fit qemu-stm32f405: RAM needs at least 149.0 KB (arena 96 KB, input and output buffers 49.0 KB, stack 4 KB) ' +
        'but RAM has 128 KB; the virtual target qemu-cortex-m4 (4 MB flash, 4 MB RAM) would fit it',
    );
    const ad = tinyedge(['build', sharedModel('mlperf-tiny/ad01_int8.tflite'), '--target', 'nucleo-g071rb', '-o', file('too-big')]);
    expect(ad.code).toBe(ExitCode.build);
    expect(expectErrorAfterProgress(ad)).toMatch(/^tinyedge: the model does not fit nucleo-g071rb: flash needs at least 264\.\d KB \(the weights alone\) but FLASH has 128 KB; the virtual target qemu-stm32f405 /);
    expect(existsSync(file('too-big'))).toBe(false);
  });
});

describe('tinyedge board serve + tinyedge flash', () => {
  /** `tinyedge board serve` in the background; resolves once it listens. */
  async function serveBoard(link: string): Promise<{ child: ChildProcessWithoutNullStreams; log: () => string }> {
    const child = spawn(process.execPath, [resolve(repoRoot, 'bin/tinyedge.js'), 'board', 'serve', '--link', link], { cwd: repoRoot });
    let log = '';
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await new Promise<void>((resolveListening, reject) => {
      const timer = setTimeout(() => reject(new Error(`board serve did not start: ${log}`)), 10_000);
      child.stderr.on('data', () => {
        if (log.includes('in its ROM bootloader on')) {
          clearTimeout(timer);
          resolveListening();
        }
      });
      child.on('exit', () => reject(new Error(`board serve exited: ${log}`)));
    });
    return { child, log: () => log };
  }

  it('the wrong board and a busy port fail with one line; then the firmware is flashed and verified; SIGINT stops the board', async () => {
    const link = file('board-tty');
    const board = await serveBoard(link);
    try {
      // A firmware for the NUCLEO-F446RE on a board whose bootloader says STM32F405.
      const wrong = tinyedge(['flash', join(file('build-nucleo-f446re'), 'firmware.elf'), '--target', 'nucleo-f446re', '--method', 'uart-bootloader', '--port', link]);
      expect(wrong.code).toBe(ExitCode.device);
      expect(expectOneLineError(wrong)).toMatch(/bootloader Get ID: expected product id 0x421 .*found 0x413.*wrong board or wrong target\?$/);

      const holder = new SerialPort({ path: link, baudRate: 115200, autoOpen: false });
      await new Promise<void>((ok, fail) => holder.open((e) => (e ? fail(e) : ok())));
      const busy = tinyedge(['flash', join(file('build-default'), 'firmware.elf'), '--port', link]);
      await new Promise<void>((ok) => holder.close(() => ok()));
      expect(busy.code).toBe(ExitCode.device);
      expect(expectOneLineError(busy)).toMatch(/cannot open .*board-tty: .*lock/i);

      const flashed = tinyedge(['flash', join(file('build-default'), 'firmware.elf'), '--port', link, '--json']);
      expect(flashed.code).toBe(0);
      expect(JSON.parse(flashed.stdout)).toMatchObject({ target: 'qemu-stm32f405', method: 'uart-bootloader', address: 0x0800_0000, verified: true });
      // The board's log arrives through a pipe: give it the moment it takes.
      for (let i = 0; i < 50 && !/firmware running in QEMU/.test(board.log()); i++) await new Promise((ok) => setTimeout(ok, 100));
      expect(board.log()).toMatch(/bootloader: Go 0x08000000\n.*firmware running in QEMU/);
    } finally {
      board.child.kill('SIGINT');
    }
    const code = await new Promise<number | null>((ok) => board.child.on('exit', (c) => ok(c)));
    expect(code).toBe(0);
    expect(existsSync(link)).toBe(false);
  });

  it('flashing a virtual target without --port says how to serve one', () => {
    const result = tinyedge(['flash', join(file('build-default'), 'firmware.elf')]);
    expect(result.code).toBe(ExitCode.usage);
    expect(expectOneLineError(result)).toMatch(/is a virtual board: serve one with `tinyedge board serve --target qemu-stm32f405 --link PATH`/);
  });

  it('a port that does not exist: one line, device exit code', () => {
    const result = tinyedge(['flash', join(file('build-default'), 'firmware.elf'), '--port', '/dev/tinyedge-no-such-port']);
    expect(result.code).toBe(ExitCode.device);
    expect(expectOneLineError(result)).toMatch(/cannot open \/dev\/tinyedge-no-such-port/);
  });
});

describe('tinyedge ports', () => {
  it('lists the serial ports as JSON (none on a machine without boards) and never fails for want of udev', () => {
    const result = tinyedge(['ports', '--json']);
    expect(result.code).toBe(0);
    expect(Array.isArray(JSON.parse(result.stdout))).toBe(true);
  });
});
