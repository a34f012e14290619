/**
 * The deploy stages that decide things without a board: the size check before compiling, the tap batches and the
 * diverging-layer search, the seeded inputs, `--target stm32` detection, the atomic output directory, and the
 * progress lines. Real models and the real target descriptions throughout.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { DeviceError } from '../../src/agent/errors.js';
import type { PortInfo } from '../../src/agent/ports.js';
import { UsageError } from '../../src/errors.js';
import { runReference } from '../../src/reference/interpreter.js';
import { loadTarget } from '../../src/targets/index.js';
import type { TensorData } from '../../src/ir/types.js';
import { produceDirectory } from '../../src/deploy/atomic-dir.js';
import { compileModel } from '../../src/deploy/compile.js';
import { detectStm32Board } from '../../src/deploy/detect-stm32.js';
import { findFirstDivergingLayer, tapBatches, tapCandidates, tapGraph, tensorBytes, TapBatchTooLarge } from '../../src/deploy/diverge.js';
import { doesNotFitError, planFit } from '../../src/deploy/fit.js';
import { randomInputs } from '../../src/deploy/inputs.js';
import { loadDeployModel } from '../../src/deploy/model.js';
import { ProgressPrinter } from '../../src/deploy/progress.js';
import { chooseTarget } from '../../src/deploy/target.js';
import { sharedModel, SHARED_PRESENT } from './support/shared.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'tinyedge-deploy-stages-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(!SHARED_PRESENT)('the size check before compiling', () => {
  test('MobileNet 0.25/128 cannot fit 128 KB of SRAM: refused with its sizes and the virtual target that holds it', async () => {
    const model = await loadDeployModel(sharedModel('tflite-uint8/mobilenet_v1_0.25_128_quant.tflite'));
    const compiled = compileModel(model.graph, model.sha256, loadTarget('qemu-stm32f405'));
    const fit = planFit(loadTarget('qemu-stm32f405'), compiled);
    expect(fit.fits).toBe(false);
    // arena 98,304 + input 49,152 + output 1,001 + stack 4,096 bytes.
    expect(fit.estimate.ramNeeded).toBe(98_304 + 128 * 128 * 3 + 1001 + 4096);
    expect(doesNotFitError(loadTarget('qemu-stm32f405'), fit).message).toBe(
      'the model does not fit qemu-stm32f405: RAM needs at least 149.0 KB (arena 96 KB, input and output buffers 49.0 KB, stack 4 KB) ' +
        'but RAM has 128 KB; the virtual target qemu-cortex-m4 (4 MB flash, 4 MB RAM) would fit it',
    );
    expect(planFit(loadTarget('qemu-cortex-m4'), compiled).fits).toBe(true);
  });

  test("AD's 270 KB of weights cannot fit the G071RB's 128 KB of flash", async () => {
    const model = await loadDeployModel(sharedModel('mlperf-tiny/ad01_int8.tflite'));
    const fit = planFit(loadTarget('nucleo-g071rb'), compileModel(model.graph, model.sha256, loadTarget('nucleo-g071rb')));
    expect(fit.fits).toBe(false);
    expect(fit.shortfall).toMatch(/^flash needs at least 264\.\d KB \(the weights alone\) but FLASH has 128 KB$/);
  });
});

describe.skipIf(!SHARED_PRESENT)('taps: the intermediate tensors the diagnosis firmware exposes', () => {
  test('candidates are the outputs of layers with code, in execution order; batches respect the budget', async () => {
    const { graph } = await loadDeployModel(sharedModel('mlperf-tiny/kws_ref_model.tflite'));
    const candidates = tapCandidates(graph);
    // 13 layers: 12 tensors besides the output, less the Reshape's alias.
    expect(candidates).toHaveLength(11);
    expect(candidates[0]).toBe(graph.nodes[0]!.outputs[0]);
    expect(candidates).not.toContain(graph.nodes.find((n) => n.op === 'Reshape')!.outputs[0]);
    expect(tapBatches(graph, candidates, 1e9)).toEqual([candidates]);
    const batches = tapBatches(graph, candidates, 20_000);
    expect(batches.flat()).toEqual(candidates);
    for (const batch of batches) expect(batch.reduce((s, t) => s + tensorBytes(graph, t), 0)).toBeLessThanOrEqual(20_000);
    const tapped = tapGraph(graph, candidates.slice(0, 2));
    expect(tapped.outputs.map((o) => o.tensor)).toEqual([graph.outputs[0]!.tensor, ...candidates.slice(0, 2)]);
    expect(tapped.outputs[1]).toMatchObject({ name: candidates[0], externalDtype: 'int8' });
    expect(graph.outputs).toHaveLength(1);
  });

  /**
   * The search's logic on the reference itself: a "device" that is the reference interpreter with one tensor
   * corrupted, so what the search concludes can be checked exactly (the device runs are in faults.test.ts).
   */
  test('the search names the layer whose output first differs, splits batches that do not fit, and recognises a placement fault', async () => {
    const { graph } = await loadDeployModel(sharedModel('mlperf-tiny/kws_ref_model.tflite'));
    const inputs = randomInputs(graph);
    const reference = runReference(graph, inputs, { keepIntermediates: true }).intermediates!;
    const corrupt = (from: number) => (tapped: typeof graph, taps: readonly string[]) => {
      const values = runReference(graph, inputs, { keepIntermediates: true }).intermediates!;
      // Layers from `from` on compute something else (a wrong layer corrupts everything after it).
      graph.nodes.slice(from).forEach((node) => node.outputs.forEach((t) => values.set(t, (values.get(t) as Int8Array).map((v) => v ^ 1))));
      if (taps.length > 4) throw new TapBatchTooLarge();
      return Promise.resolve(tapped.outputs.map((io) => values.get(io.tensor)!) as TensorData[]);
    };
    const batches: number[] = [];
    const found = await findFirstDivergingLayer({ graph, reference, budgetBytes: 1e9, run: corrupt(5), onBatch: (b) => batches.push(b.count) });
    expect(found.layer).toMatchObject({ index: 5, op: 'DepthwiseConv2D', name: graph.nodes[5]!.name });
    // 11 taps in one batch would not fit: split 6 + 5, then 3 + 3 + ... until a batch of at most 4 ran.
    expect(batches[0]).toBe(11);
    expect(found.tapBuilds).toBeGreaterThanOrEqual(2);

    const clean = (tapped: typeof graph) => Promise.resolve(tapped.outputs.map((io) => reference.get(io.tensor)!));
    const placement = await findFirstDivergingLayer({ graph, reference, budgetBytes: 1e9, run: clean });
    expect(placement.layer).toBeUndefined();
    expect(placement.note).toMatch(/depends on where tensors are placed in memory/);
  });
});

describe.skipIf(!SHARED_PRESENT)('seeded random inputs', () => {
  test('the same model always gets the same inputs, spread over the whole int8 range', async () => {
    const { graph } = await loadDeployModel(sharedModel('mlperf-tiny/kws_ref_model.tflite'));
    const a = randomInputs(graph)[0] as Int8Array;
    expect(Array.from(randomInputs(graph)[0] as Int8Array)).toEqual(Array.from(a));
    expect(Array.from(randomInputs(graph, 2)[0] as Int8Array)).not.toEqual(Array.from(a));
    expect(a).toHaveLength(490);
    expect(Math.min(...a)).toBeLessThan(-120);
    expect(Math.max(...a)).toBeGreaterThan(120);
  });

  test('a uint8 model gets uint8 values shifted into its int8 IR input', async () => {
    const { graph } = await loadDeployModel(sharedModel('tflite-uint8/conv.uint8.tflite'));
    expect(graph.inputs[0]!.externalDtype).toBe('uint8');
    expect(randomInputs(graph)[0]).toBeInstanceOf(Int8Array);
  });
});

describe('--target stm32', () => {
  const port = (path: string, vendorId?: string): PortInfo => ({
    path,
    ...(vendorId ? { vendorId, productId: '374b' } : {}),
    kind: vendorId === '0483' ? 'st-link' : 'other',
    description: '',
  });

  test('with no ST-LINK port: a device error that lists the virtual targets', async () => {
    const detect = chooseTarget('stm32', { ports: [port('/dev/ttyUSB0', '10c4')] });
    await expect(detect).rejects.toBeInstanceOf(DeviceError);
    await expect(detect).rejects.toThrow(
      /^--target stm32: no ST board found \(no ST-LINK virtual COM port, USB vendor 0483, among 1 serial port\); use a virtual target instead: qemu-cortex-m3, qemu-cortex-m4, qemu-cortex-m7, qemu-stm32f405 \(no --target: qemu-stm32f405\)$/,
    );
  });

  test("an ST-LINK port whose bootloader reports the F446's id is the NUCLEO-F446RE", async () => {
    const choice = await chooseTarget('stm32', { ports: [port('/dev/ttyACM0', '0483')], identify: async () => 0x421 });
    expect(choice).toMatchObject({ how: 'detected', port: '/dev/ttyACM0', target: { name: 'nucleo-f446re' } });
  });

  test('a port that does not answer, or a chip no target describes, is reported rather than guessed', async () => {
    await expect(detectStm32Board({ ports: [port('/dev/ttyACM0', '0483')], identify: async () => undefined })).rejects.toThrow(
      /\/dev\/ttyACM0 did not answer the ROM bootloader/,
    );
    await expect(detectStm32Board({ ports: [port('/dev/ttyACM1', '0483')], identify: async () => 0x410 })).rejects.toThrow(
      /\/dev\/ttyACM1 has an .*which no built-in target describes/,
    );
  });
});

describe('the output directory', () => {
  test('appears complete or not at all, and is replaced only with force', async () => {
    const dir = path.join(scratch, 'out');
    await expect(
      produceDirectory(dir, false, async (staging) => {
        writeFileSync(path.join(staging, 'half'), 'x');
        throw new Error('the build failed');
      }),
    ).rejects.toThrow('the build failed');
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(scratch)).toEqual([]);
    await produceDirectory(dir, false, async (staging) => writeFileSync(path.join(staging, 'first'), '1'));
    await expect(produceDirectory(dir, false, async () => {})).rejects.toBeInstanceOf(UsageError);
    await produceDirectory(dir, true, async (staging) => writeFileSync(path.join(staging, 'second'), '2'));
    expect(readdirSync(dir)).toEqual(['second']);
    expect(readdirSync(scratch)).toEqual(['out']);
  });
});

describe('progress on stderr', () => {
  test('without a terminal the flash bar becomes a line per quarter of each phase', () => {
    let text = '';
    const printer = new ProgressPrinter({ write: (t: string) => (text += t), isTTY: false });
    for (let done = 0; done <= 1000; done += 100) printer.handle({ type: 'flash', progress: { phase: 'write', done, total: 1000 } });
    expect(text.split('\n').filter(Boolean)).toEqual([
      'flash     write 25 %  300 / 1,000 B',
      'flash     write 50 %  500 / 1,000 B',
      'flash     write 75 %  800 / 1,000 B',
      'flash     write 100 %  1,000 / 1,000 B',
    ]);
    expect(text).not.toContain('\r');
  });

  test('on a terminal it is redrawn in place, and the next line starts on a fresh line', () => {
    let text = '';
    const printer = new ProgressPrinter({ write: (t: string) => (text += t), isTTY: true });
    printer.handle({ type: 'flash', progress: { phase: 'verify', done: 512, total: 1024 } });
    printer.handle({ type: 'diagnose', message: 'done' });
    expect(text).toBe(`\rflash     verify [############------------]  50 %  512 / 1,024 B\u001b[K\ndiagnose  done\n`);
  });
});
