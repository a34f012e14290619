/**
 * The real models with the DSP kernels on the emulated STM32F405 (the real firmware in QEMU, -icount shift=0):
 * every golden case of shared/models/reference/cases.json and a random input give the reference interpreter's
 * outputs bit for bit (and TFLite-Micro's, for the golden cases); the MLPerf Tiny models' instructions per
 * inference (TIM2: exact counts) are compared with the portable kernels' and with TFLite-Micro + CMSIS-NN's on the
 * same emulated board (shared/docs/BASELINES.md), and printed layer by layer.
 */
import { describe, expect, it } from 'vitest';
import { generateLibrary } from '../../src/codegen/index.js';
import { nodeMacs } from '../../src/ir/cost.js';
import { elementCount, tensorOf } from '../../src/ir/graph.js';
import type { Graph, TensorData } from '../../src/ir/types.js';
import { runReference } from '../../src/reference/interpreter.js';
import { runOnBoard, type BoardRun } from './support/board-run.js';
import { goldenCases, loadSharedModel, SHARED_PRESENT, type GoldenCase } from './support/models.js';
import { Random } from './support/random.js';
import { runOnEmulator } from './support/semihost.js';

const describeShared = SHARED_PRESENT ? describe : describe.skip;
if (!SHARED_PRESENT) console.warn('test/codegen/simd-models.test.ts: ../shared/models is absent; the real-model tests are skipped');

/** TFLite-Micro + CMSIS-NN on QEMU netduinoplus2, instructions per inference (shared/docs/BASELINES.md). */
const MLPERF = [
  { name: 'KWS', file: 'mlperf-tiny/kws_ref_model.tflite', tflmInstructions: 7_697_228 },
  { name: 'VWW', file: 'mlperf-tiny/vww_96_int8.tflite', tflmInstructions: 24_101_524 },
  { name: 'IC (ResNet-8)', file: 'mlperf-tiny/resnet8_int8.tflite', tflmInstructions: 29_863_091 },
  { name: 'AD', file: 'mlperf-tiny/ad01_int8.tflite', tflmInstructions: 582_826 },
] as const;
/** The bar: at most this fraction of TFLite-Micro + CMSIS-NN's instructions. */
const TARGET_RATIO = 0.6;

function casesOf(model: string): GoldenCase[] {
  return goldenCases().filter((c) => c.model === model);
}

function randomInput(graph: Graph, seed: number): TensorData[] {
  const random = new Random(seed);
  return graph.inputs.map((io) => random.int8Array(elementCount(tensorOf(graph, io.tensor).shape)));
}

const asArrays = (outputs: readonly TensorData[]) => outputs.map((o) => Array.from(o as Int8Array));

function layerTable(graph: Graph, dsp: BoardRun, portable: BoardRun, kernels: (string | null)[]): string {
  const lines = graph.nodes.map((node, i) => {
    const macs = nodeMacs(graph, node);
    const perMac = macs > 0 ? (dsp.layers[i]! / macs).toFixed(2) : '-';
    return `  ${String(i).padStart(2)} ${node.op.padEnd(16)} ${(kernels[i] ?? '(no code)').padEnd(28)} ${String(dsp.layers[i]).padStart(9)} ${String(portable.layers[i]).padStart(9)} ${String(macs).padStart(8)} ${perMac.padStart(6)}`;
  });
  return ['  #  op               kernel                             dsp  portable     MACs  ins/MAC', ...lines].join('\n');
}

describeShared('MLPerf Tiny models with the DSP kernels on the emulated STM32F405', () => {
  for (const model of MLPERF) {
    it(`${model.name}: golden cases and a random input bit for bit; at most ${TARGET_RATIO} x TFLite-Micro + CMSIS-NN's instructions`, async () => {
      const { graph, hash } = loadSharedModel(model.file);
      const cases = casesOf(model.file);
      const records = [...cases.map((c) => [Int8Array.from(c.input.data)] as TensorData[]), randomInput(graph, 7)];
      const dspLibrary = generateLibrary(graph, { modelHash: hash, isa: 'dsp' });
      const dsp = await runOnBoard(graph, dspLibrary, records);
      records.forEach((record, r) => {
        expect(dsp.outputs[r]!.map((o) => Array.from(o)), `record ${r}: device vs reference`).toEqual(asArrays(runReference(graph, record).outputs));
      });
      cases.forEach((c, r) => expect(dsp.outputs[r]!.map((o) => Array.from(o)), `${c.name}: device vs TFLite-Micro`).toEqual(c.expected.map((e) => e.data)));

      const portableLibrary = generateLibrary(graph, { modelHash: hash });
      const portable = await runOnBoard(graph, portableLibrary, records.slice(0, 1));
      const macs = graph.nodes.reduce((sum, node) => sum + nodeMacs(graph, node), 0);
      console.log(
        `${model.name}: DSP ${dsp.total} instructions (${(dsp.total / macs).toFixed(2)}/MAC), portable ${portable.total}, ` +
          `TFLite-Micro + CMSIS-NN ${model.tflmInstructions}: ${(dsp.total / model.tflmInstructions).toFixed(3)} x; ` +
          `model code ${dsp.modelCodeBytes} B (portable ${portable.modelCodeBytes} B), constants ${dspLibrary.constantBytes} B (portable ${portableLibrary.constantBytes} B), ` +
          `arena ${dspLibrary.plan.arenaBytes} B (portable ${portableLibrary.plan.arenaBytes} B); firmware flash ${dsp.sizes.flashUsed} B, RAM ${dsp.sizes.ramUsed} B\n` +
          layerTable(graph, dsp, portable, dspLibrary.layers.map((l) => l.kernel)),
      );
      expect(dsp.total).toBeLessThan(portable.total);
      expect(dsp.total).toBeLessThanOrEqual(TARGET_RATIO * model.tflmInstructions);
    });
  }
});

describeShared('the other golden cases with the DSP kernels on the emulated Cortex-M4', () => {
  const others = [...new Set(goldenCases().map((c) => c.model))].filter((m) => !MLPERF.some((x) => x.file === m));
  for (const model of others) {
    it(`${model}: == reference == TFLite-Micro, bit for bit`, async () => {
      const { graph, hash } = loadSharedModel(model);
      const library = generateLibrary(graph, { modelHash: hash, isa: 'dsp' });
      for (const c of casesOf(model)) {
        const input = [Int8Array.from(c.input.data)];
        const { outputs } = await runOnEmulator(graph, library, input, 'qemu-cortex-m4');
        expect(asArrays(outputs), `${c.name}: device vs reference`).toEqual(asArrays(runReference(graph, input).outputs));
        expect(asArrays(outputs), `${c.name}: device vs TFLite-Micro`).toEqual(c.expected.map((e) => e.data));
      }
    });
  }
});
