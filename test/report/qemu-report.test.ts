/**
 * The report of a real deployment: the MLPerf Tiny KWS model imported, compiled to C, built into firmware for the
 * emulated STM32F405, run in QEMU on the benchmark's own input, checked against the reference interpreter, and
 * reported. This is also how `tinyedge deploy` is meant to fill a DeployResult.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { DeviceLink } from '../../src/agent/device-link.js';
import { startQemu, type QemuBoard } from '../../src/agent/qemu.js';
import { buildFirmware } from '../../src/build/firmware.js';
import { generateLibrary } from '../../src/codegen/index.js';
import { writeLibraryAtomically } from '../../src/codegen/write.js';
import { loadModel } from '../../src/frontend/index.js';
import { graphCost } from '../../src/ir/cost.js';
import { dtypeBytes, elementCount, tensorOf } from '../../src/ir/graph.js';
import { outputFromIR } from '../../src/io/tensors.js';
import { runReference } from '../../src/reference/interpreter.js';
import {
  buildReport,
  formatReportText,
  loadReport,
  renderReportHtml,
  reportJson,
  type DeployReport,
  type DeployResult,
} from '../../src/report/index.js';
import { loadTarget } from '../../src/targets/index.js';
import { findChromium, loadPage } from './support/chromium.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODELS = path.resolve(REPO_ROOT, '../shared/models');
const MODEL_FILE = path.join(MODELS, 'mlperf-tiny/kws_ref_model.tflite');
const HAVE_MODELS = existsSync(MODEL_FILE);

interface GoldenCase {
  name: string;
  input: { data: number[] };
  expected: { data: number[] }[];
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'tinyedge-report-qemu-'));
const boards: QemuBoard[] = [];
afterAll(async () => {
  await Promise.all(boards.map((board) => board.stop()));
  rmSync(dir, { recursive: true, force: true });
});

/** The deploy pipeline, stage by stage, ending in the report stage's input. */
async function deployKws(): Promise<{ result: DeployResult; golden: number[] }> {
  const bytes = readFileSync(MODEL_FILE);
  const graph = await loadModel(MODEL_FILE);
  const cost = graphCost(graph);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const library = generateLibrary(graph, { modelHash: sha256 });
  const libraryDir = path.join(dir, 'library');
  await writeLibraryAtomically(libraryDir, library.files);

  const ioBytes = (tensor: string) => {
    const t = tensorOf(graph, tensor);
    return elementCount(t.shape) * dtypeBytes(t.dtype);
  };
  const target = loadTarget('qemu-stm32f405');
  const firmware = await buildFirmware({
    target,
    libraryDir,
    model: {
      prefix: library.prefix,
      inputBytes: graph.inputs.map((io) => ioBytes(io.tensor)),
      outputBytes: graph.outputs.map((io) => ioBytes(io.tensor)),
      layerCount: library.layers.length,
    },
    outDir: path.join(dir, 'firmware'),
  });

  const cases = JSON.parse(readFileSync(path.join(MODELS, 'reference/cases.json'), 'utf8')) as { cases: (GoldenCase & { model: string })[] };
  const sample = cases.cases.find((c) => c.name === 'mlperf_kws_sample0')!;
  const input = Int8Array.from(sample.input.data);

  const board = await startQemu({ target, elf: firmware.elf });
  boards.push(board);
  const link = new DeviceLink(board.stream, { port: board.port });
  const hello = await link.connect(5000);
  await link.setInput(0, input);
  const run = await link.run({ runs: 3, warmups: 1, timeoutMs: 30_000 });
  const deviceOutput = await link.getOutput(0);
  await link.close();
  if (run.unit === 'none') throw new Error('the emulated board has no timer');

  const reference = runReference(graph, [input]).outputs;
  const macsByName = new Map(cost.layers.map((layer) => [layer.name, layer.macs]));
  const io = graph.outputs[0]!;
  const device = outputFromIR(graph, io, deviceOutput);
  return {
    golden: sample.expected[0]!.data,
    result: {
      model: { path: MODEL_FILE, sha256, name: graph.name, macs: cost.macs, paramBytes: cost.paramBytes },
      target: { name: target.name, core: target.core, clockHz: target.clockHz, emulated: target.emulated, deviceClockHz: hello.clockHz },
      memory: {
        text: firmware.sizes.text,
        data: firmware.sizes.data,
        bss: firmware.sizes.bss,
        flashUsed: firmware.sizes.flashUsed,
        flashSize: firmware.sizes.flashSize,
        ramUsed: firmware.sizes.ramUsed,
        ramSize: firmware.sizes.ramSize,
        stackBytes: firmware.sizes.stackBytes,
        arenaBytes: library.plan.arenaBytes,
        weightsBytes: library.constantBytes,
      },
      layers: library.layers.map((layer) => ({ name: layer.name, op: layer.op, macs: macsByName.get(layer.name) ?? 0 })),
      timing: { unit: run.unit, warmups: 1, runs: run.runs },
      outputs: [
        { name: io.name, dtype: device.dtype, shape: device.shape, device: device.data, reference: outputFromIR(graph, io, reference[0]!).data },
      ],
      tool: { version: '0.1.0', date: new Date().toISOString() },
    },
  };
}

describe.skipIf(!HAVE_MODELS)('the report of KWS deployed to the emulated STM32F405 (needs ../shared/models)', () => {
  let report: DeployReport;
  let golden: number[];

  test('the deployment is bit-exact and its numbers hang together', async () => {
    const deployed = await deployKws();
    golden = deployed.golden;
    report = buildReport(deployed.result);
    console.log(formatReportText(report, { color: false }));

    expect(report.validation).toMatchObject({ bitExact: true, compared: 12, mismatches: 0 });
    expect(report.outputs[0]!.data).toEqual(golden);

    const { latency, layers, memory } = report;
    expect(latency.unit).toBe('instructions');
    // -icount makes every run count the same instructions.
    expect(latency.min).toBe(latency.max);
    expect(latency.msClockHz).toBe(168_000_000);
    expect(report.model.macs).toBe(2_656_768);
    expect(layers.map((l) => l.op)).toEqual(deployed.result.layers.map((l) => l.op));
    expect(layers.reduce((sum, l) => sum + l.time, 0) + latency.outsideLayers).toBe(latency.median);
    expect(latency.outsideLayers).toBeGreaterThanOrEqual(0);
    // Convolution layers carry the MACs and most of the time.
    const convolutionTime = layers.filter((l) => l.macs > 0).reduce((sum, l) => sum + l.share, 0);
    expect(convolutionTime).toBeGreaterThan(0.8);
    expect(layers.filter((l) => l.macs > 0).every((l) => l.perMac !== null && l.perMac > 0)).toBe(true);

    expect(memory.flashBytes).toBeLessThanOrEqual(memory.flashCapacity);
    expect(memory.ramBytes).toBeLessThanOrEqual(memory.ramCapacity);
    expect(memory.weightsBytes).toBeGreaterThanOrEqual(report.model.paramBytes);
    expect(memory.codeBytes + memory.weightsBytes).toBe(memory.flashBytes);
    expect(memory.arenaBytes + memory.stackBytes + memory.otherRamBytes).toBe(memory.ramBytes);
  });

  test('its JSON loads back and its page renders in Chromium', async (context) => {
    if (!report) context.skip();
    const json = path.join(dir, 'kws.json');
    writeFileSync(json, reportJson(report));
    expect(await loadReport(json)).toEqual(report);

    const chromium = findChromium();
    if (!chromium) context.skip();
    const html = path.join(dir, 'kws.html');
    writeFileSync(html, renderReportHtml(report));
    const page = await loadPage(chromium!, html);
    expect(page.console).toEqual([]);
    expect(/<html[^>]*>/.exec(page.dom)![0]).toBe(`<html lang="en" data-layer-bars="${report.layers.length}" data-report-ready="yes">`);
  });
});
