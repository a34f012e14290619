/**
 * The real models: every golden case of shared/models/reference/cases.json through the generated C on the host,
 * compared bit for bit with the reference interpreter and with TFLite-Micro's own outputs; the MLPerf Tiny arenas
 * against TFLite-Micro's.
 */
import { describe, expect, it } from 'vitest';
import { compileHostProgram } from '../../src/build/host.js';
import { generateLibrary } from '../../src/codegen/index.js';
import { planArena } from '../../src/plan/index.js';
import type { TensorData } from '../../src/ir/types.js';
import { runReference } from '../../src/reference/interpreter.js';
import { goldenCases, loadSharedModel, MLPERF_TINY, SHARED_PRESENT, type GoldenCase } from './support/models.js';

const describeShared = SHARED_PRESENT ? describe : describe.skip;
if (!SHARED_PRESENT) console.warn('test/codegen/models.test.ts: ../shared/models is absent; the real-model tests are skipped');

function casesByModel(): Map<string, GoldenCase[]> {
  const byModel = new Map<string, GoldenCase[]>();
  for (const c of goldenCases()) byModel.set(c.model, [...(byModel.get(c.model) ?? []), c]);
  return byModel;
}

describeShared('generated C on the real models', () => {
  const byModel = SHARED_PRESENT ? casesByModel() : new Map<string, GoldenCase[]>();
  for (const [model, cases] of byModel) {
    it(`${model}: ${cases.map((c) => c.name).join(', ')} == reference == TFLite-Micro, bit for bit`, async () => {
      const { graph, hash } = loadSharedModel(model);
      const library = generateLibrary(graph, { modelHash: hash });
      const program = await compileHostProgram(graph, library);
      try {
        const records = cases.map((c) => [Int8Array.from(c.input.data)] as TensorData[]);
        const outputs = await program.run(records);
        cases.forEach((c, i) => {
          const reference = runReference(graph, records[i]!).outputs;
          expect(outputs[i]!.map((o) => Array.from(o as Int8Array)), `${c.name}: C vs reference`).toEqual(reference.map((o) => Array.from(o as Int8Array)));
          expect(outputs[i]!.map((o) => Array.from(o as Int8Array)), `${c.name}: C vs TFLite-Micro`).toEqual(c.expected.map((e) => e.data));
        });
      } finally {
        await program.dispose();
      }
    });
  }
});

describeShared('generated C on the real models under AddressSanitizer and UBSan', () => {
  for (const model of ['mlperf-tiny/kws_ref_model.tflite', 'tinymaix/mnist_resnet_q.tflite']) {
    it(`${model}: runs clean and still matches TFLite-Micro`, async () => {
      const cases = casesByModel().get(model)!;
      const { graph, hash } = loadSharedModel(model);
      const program = await compileHostProgram(graph, generateLibrary(graph, { modelHash: hash }), { sanitize: true });
      try {
        const outputs = await program.run(cases.map((c) => [Int8Array.from(c.input.data)]));
        cases.forEach((c, i) => expect(outputs[i]!.map((o) => Array.from(o as Int8Array))).toEqual(c.expected.map((e) => e.data)));
      } finally {
        await program.dispose();
      }
    });
  }
});

describeShared('arena size on the MLPerf Tiny models', () => {
  for (const model of MLPERF_TINY) {
    it(`${model.name}: smaller than TFLite-Micro's arena_used_bytes (${model.tflmArenaBytes})`, () => {
      const { graph } = loadSharedModel(model.file);
      const library = generateLibrary(graph, { modelHash: '0'.repeat(16) });
      const withIo = planArena(graph, {
        io: 'arena',
        scratch: library.plan.scratch.map(({ node, bytes, purpose }) => ({ node, bytes, purpose })),
      });
      console.log(
        `${model.name}: arena ${library.plan.arenaBytes} B (peak live ${library.plan.peakLiveBytes} B, ${library.plan.order}); ` +
          `with inputs/outputs in the arena ${withIo.arenaBytes} B; TFLite-Micro ${model.tflmArenaBytes} B`,
      );
      expect(library.plan.arenaBytes).toBeLessThan(model.tflmArenaBytes);
      expect(withIo.arenaBytes).toBeLessThan(model.tflmArenaBytes);
      expect(library.plan.arenaBytes).toBeGreaterThanOrEqual(library.plan.peakLiveBytes);
    });
  }
});
