/**
 * `tinyedge compile` and `tinyedge run --engine host` through the real built command: the library lands whole or not
 * at all, the plan is reported, and the host-compiled C answers exactly as the reference does.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOneLineError, repoRoot, tinyedge } from './cli-harness.js';

const kws = resolve(repoRoot, 'examples/kws/kws_ref_model.tflite');
const kwsInput = resolve(repoRoot, 'examples/kws/input.npy');
const work = mkdtempSync(join(tmpdir(), 'tinyedge-compile-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('tinyedge compile', () => {
  it('writes the library and reports the arena below TFLite-Micro\'s for KWS', () => {
    const dir = join(work, 'kws');
    const result = tinyedge(['compile', kws, '-o', dir, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.arenaBytes).toBeGreaterThan(0);
    expect(report.arenaBytes).toBeLessThan(22_820); // TFLite-Micro's arena_used_bytes (BASELINES.md)
    expect(report.arenaBytes).toBeGreaterThanOrEqual(report.peakBytes);
    expect(report.tensors.length).toBeGreaterThan(0);
    const files = readdirSync(dir).sort();
    expect(files).toEqual([...report.files].sort());
    const header = readFileSync(join(dir, `tinyedge_${report.prefix}.h`), 'utf8');
    expect(header).toContain(`tinyedge_${report.prefix}_run`);
  });

  it('--target picks the kernels of the target\'s core; in-place layers are reported; a wrong target is one line', () => {
    const dsp = tinyedge(['compile', kws, '-o', join(work, 'kws-dsp'), '--target', 'qemu-stm32f405', '--json']);
    expect(dsp.code, dsp.stderr).toBe(0);
    const report = JSON.parse(dsp.stdout);
    const kernels = report.layers.filter((l: { op: string }) => ['Conv2D', 'DepthwiseConv2D', 'FullyConnected'].includes(l.op));
    expect(kernels.length).toBeGreaterThan(0);
    expect(kernels.every((l: { function: string }) => l.function.includes('_dsp'))).toBe(true);
    // The depthwise and pointwise layers write over their inputs: the arena holds one 25x5x64 map, not two.
    const inPlace = report.layers.filter((l: { inPlaceOver?: string }) => l.inPlaceOver !== undefined);
    expect(inPlace.length).toBeGreaterThan(0);
    expect(report.arenaBytes).toBeLessThan(2 * 8000);
    const portable = JSON.parse(tinyedge(['compile', kws, '-o', join(work, 'kws-m3'), '--target', 'qemu-cortex-m3', '--json']).stdout);
    expect(portable.layers.some((l: { function: string | null }) => l.function?.includes('_dsp'))).toBe(false);
    const wrong = tinyedge(['compile', kws, '-o', join(work, 'kws-x'), '--target', 'no-such-board']);
    expect(wrong.code).toBe(2);
    expect(expectOneLineError(wrong)).toContain('no-such-board');
    expect(existsSync(join(work, 'kws-x'))).toBe(false);
  });

  it('never replaces an existing directory without --force, and leaves it untouched', () => {
    const dir = join(work, 'mine');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'my own file');
    const refused = tinyedge(['compile', kws, '-o', dir]);
    expect(refused.code).toBe(2);
    expect(expectOneLineError(refused)).toContain(dir);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('my own file');

    const forced = tinyedge(['compile', kws, '-o', dir, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(existsSync(join(dir, 'notes.txt'))).toBe(false);
  });

  it('a model that cannot be read leaves no directory behind', () => {
    const dir = join(work, 'never');
    const bad = join(work, 'bad.tflite');
    writeFileSync(bad, Buffer.from('not a model at all'));
    const result = tinyedge(['compile', bad, '-o', dir]);
    expect(result.code).toBe(3);
    expectOneLineError(result);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('tinyedge run --engine host', () => {
  it('the host-compiled C gives the reference output bit for bit on the KWS example', () => {
    const host = tinyedge(['run', kws, '--input', kwsInput, '--engine', 'host', '--json']);
    const reference = tinyedge(['run', kws, '--input', kwsInput, '--engine', 'reference', '--json']);
    expect(host.code, host.stderr).toBe(0);
    expect(reference.code, reference.stderr).toBe(0);
    expect(JSON.parse(host.stdout)).toEqual(JSON.parse(reference.stdout));
    const expected = JSON.parse(readFileSync(resolve(repoRoot, 'examples/kws/expected.json'), 'utf8'));
    expect(JSON.parse(host.stdout).outputs[0].data).toEqual(expected.outputs[0].data);
  });
});
