import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { flashUsage, weightsObjectOf } from '../../src/bench/flash-usage.js';
import { BuildError, buildFirmware } from '../../src/build/firmware.js';
import { renderFirmwareProject } from '../../src/build/firmware-project.js';
import { INSTALL_TOOLCHAIN, locateToolchain } from '../../src/build/toolchain.js';
import { loadAllTargets, loadTarget, mainFlash, mainRam, type Target } from '../../src/targets/index.js';
import { FIXTURE_DIR, fixtureModel, fixtureVariant, removeTemporaryDirectories, temporaryDirectory } from './support/fixture.js';

const fixtureFiles = ['tinyedge_types.h', 'fixture_config.h', 'tinyedge_fixture.h', 'tinyedge_fixture.c'].map((f) => ({
  path: path.join(FIXTURE_DIR, f),
  relative: f,
}));

function linkerScriptOf(target: Target, stackBytes: number): string {
  const dir = temporaryDirectory('render');
  renderFirmwareProject({ target, model: fixtureModel(), library: fixtureFiles, outDir: dir, stackBytes });
  return readFileSync(path.join(dir, 'linker.ld'), 'utf8');
}

/** The first two vector-table words: initial stack pointer and reset handler. */
function vectors(bin: string): { sp: number; reset: number } {
  const bytes = readFileSync(bin);
  return { sp: bytes.readUInt32LE(0), reset: bytes.readUInt32LE(4) };
}

afterAll(removeTemporaryDirectories);

describe('firmware project', () => {
  it('writes the linker memory map from the target regions and the stack size', () => {
    const script = linkerScriptOf(loadTarget('qemu-stm32f405'), 8192);
    expect(script).toMatch(/FLASH \(rx\) : ORIGIN = 0x08000000, LENGTH = 1048576/);
    expect(script).toMatch(/RAM \(rwx\) : ORIGIN = 0x20000000, LENGTH = 131072/);
    expect(script).toMatch(/STACK_SIZE = 8192;/);
    const h7 = linkerScriptOf(loadTarget('nucleo-h743zi2'), 4096);
    expect(h7).toMatch(/AXISRAM \(rwx\) : ORIGIN = 0x24000000, LENGTH = 524288/);
    expect(h7).toMatch(/DTCM \(rwx\) : ORIGIN = 0x20000000, LENGTH = 131072/);
    expect(h7).toMatch(/\} > AXISRAM AT > FLASH/);
    expect(linkerScriptOf(loadTarget('qemu-cortex-m3'), 4096)).toMatch(/CODE \(rx\) : ORIGIN = 0x00000000, LENGTH = 4194304/);
  });
});

describe('firmware build', () => {
  const realBoards = loadAllTargets().filter((t) => !t.emulated);

  it.each(realBoards.map((t) => t.name))('compiles and links the fixture for the real board %s', async (name) => {
    const target = loadTarget(name);
    const build = await buildFirmware({ target, libraryDir: FIXTURE_DIR, model: fixtureModel(), outDir: temporaryDirectory(name) });
    const flash = mainFlash(target);
    const ram = mainRam(target);
    expect(build.sizes.flashSize).toBe(flash.size);
    expect(build.sizes.flashUsed).toBeGreaterThan(1000);
    expect(build.sizes.flashUsed).toBe(build.sizes.text + build.sizes.data);
    expect(build.sizes.ramUsed).toBe(build.sizes.data + build.sizes.bss);
    // The fixture's 2 KB arena, 2 + 2 KB tensor buffers and the 4 KB stack are all in RAM.
    expect(build.sizes.ramUsed).toBeGreaterThan(2048 * 3 + 4096);
    const { sp, reset } = vectors(build.bin);
    expect(sp).toBeGreaterThan(ram.origin);
    expect(sp).toBeLessThanOrEqual(ram.origin + ram.size);
    expect(reset & 1).toBe(1); // Thumb
    expect(reset).toBeGreaterThan(flash.origin);
    expect(reset).toBeLessThan(flash.origin + build.sizes.flashUsed);
  });

  it('refuses a model whose weights exceed the flash before linking, naming the sizes and a virtual target that fits', async () => {
    const outDir = temporaryDirectory('too-much-flash');
    const build = buildFirmware({
      target: 'qemu-stm32f405',
      libraryDir: fixtureVariant({ weightBytes: 2 * 1024 * 1024 }),
      model: fixtureModel(),
      outDir,
    });
    await expect(build).rejects.toThrow(BuildError);
    await expect(build).rejects.toThrow(
      /the model does not fit qemu-stm32f405: flash needs 2\.\d+ MB \(model 2\.\d+ MB, firmware [\d.]+ KB\) but FLASH has 1 MB; the virtual target qemu-cortex-m4 \(4 MB flash, 4 MB RAM\) would fit it/,
    );
    expect(existsSync(path.join(outDir, 'firmware.elf'))).toBe(false);
  });

  it('refuses an arena larger than the RAM of a small board', async () => {
    const outDir = temporaryDirectory('too-much-ram');
    const build = buildFirmware({
      target: 'nucleo-g071rb',
      libraryDir: fixtureVariant({ arenaBytes: 64 * 1024 }),
      model: fixtureModel(),
      outDir,
    });
    await expect(build).rejects.toThrow(
      /the model does not fit nucleo-g071rb: RAM needs [\d.]+ KB \(model 64\.\d KB, firmware and tensor buffers [\d.]+ KB, stack 4 KB\) but RAM has 36 KB; the virtual target qemu-stm32f405 \(1 MB flash, 128 KB RAM\) would fit it/,
    );
    expect(existsSync(path.join(outDir, 'firmware.elf'))).toBe(false);
  });

  it("shows the compiler's error for a library that does not compile", async () => {
    const build = buildFirmware({
      target: 'qemu-cortex-m3',
      libraryDir: fixtureVariant({ extraSource: 'int broken(void) { return undeclared_thing; }\n' }),
      model: fixtureModel(),
      outDir: temporaryDirectory('broken'),
    });
    await expect(build).rejects.toThrow(/compiling model\/tinyedge_fixture_extra\.c for qemu-cortex-m3 failed:\n.*error: 'undeclared_thing' undeclared/s);
  });

  it('refuses a library whose sizes disagree with the description, and one without its header', async () => {
    await expect(
      buildFirmware({ target: 'qemu-cortex-m3', libraryDir: FIXTURE_DIR, model: { ...fixtureModel(), prefix: 'kws' }, outDir: temporaryDirectory('x') }),
    ).rejects.toThrow(/the model library has no tinyedge_kws\.h/);
    await expect(
      buildFirmware({ target: 'nucleo-f999', libraryDir: FIXTURE_DIR, model: fixtureModel(), outDir: temporaryDirectory('x') }),
    ).rejects.toThrow(/unknown target 'nucleo-f999'/);
  });

  it('renders a Makefile that rebuilds the same firmware with plain make', async () => {
    const stages: string[] = [];
    const build = await buildFirmware({
      target: 'qemu-cortex-m3',
      libraryDir: FIXTURE_DIR,
      model: fixtureModel(),
      outDir: temporaryDirectory('make'),
      onProgress: (event) => stages.push(event.stage),
    });
    expect([...new Set(stages)]).toEqual(['render', 'compile', 'check', 'link', 'done']);
    const ours = readFileSync(build.bin);
    await execa('make', ['clean'], { cwd: build.dir });
    expect(existsSync(build.elf)).toBe(false);
    const { stdout } = await execa('make', [], { cwd: build.dir });
    expect(stdout).toMatch(/arm-none-eabi-gcc .*-mcpu=cortex-m3 -mthumb -mfloat-abi=soft -O2/);
    // Same sources, same flags: the loadable image is byte-identical.
    expect(Buffer.compare(readFileSync(build.bin), ours)).toBe(0);
  });

  it('links a harness that takes nothing from the C library and stays small (qemu-stm32f405)', async () => {
    const outDir = temporaryDirectory('harness-size');
    const build = await buildFirmware({ target: 'qemu-stm32f405', libraryDir: FIXTURE_DIR, model: fixtureModel(), outDir });
    const map = readFileSync(path.join(build.dir, 'firmware.map'), 'utf8');
    // "Archive member included to satisfy reference by file (symbol)": each member, then who needed it. The fixture
    // library needs nothing, so any member here was wanted by the harness (64-bit division, memset, strlen...).
    const members = map.slice(0, map.indexOf('Discarded input sections')).split('\n').filter((line) => /\.a\(/.test(line));
    expect(members).toEqual([]);
    const usage = flashUsage(build.dir, weightsObjectOf('fixture'), build.sizes.flashUsed);
    expect(usage.cRuntime).toBe(0);
    // -Os, link-time optimised around the constant MLPerf description: about 6.5 KB with the fixture (was 10.7 KB).
    expect(usage.harness).toBeLessThan(7000);
  });

  it('names the apt-get command when the toolchain is missing', async () => {
    await expect(locateToolchain({ ...process.env, TINYEDGE_ARM_TOOLCHAIN: '/nonexistent/toolchain' })).rejects.toThrow(
      `arm-none-eabi-gcc was not found in /nonexistent/toolchain; install it with: ${INSTALL_TOOLCHAIN}`,
    );
  });
});
