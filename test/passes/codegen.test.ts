/**
 * Optimized graphs through code generation: the generated C, compiled for the host, reproduces TFLite-Micro's golden
 * outputs (VWW, whose pruned channels the passes removed) and the reference interpreter (a graph where every pass
 * rewrites something), and the constant data shrinks with the pruned channels.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileHostProgram, runOnHost } from '../../src/build/host.js';
import { generateLibrary } from '../../src/codegen/index.js';
import { importTflite } from '../../src/frontend/tflite/index.js';
import type { TensorData } from '../../src/ir/types.js';
import { optimizeGraph } from '../../src/passes/index.js';
import { runReference } from '../../src/reference/interpreter.js';
import { randomInputs } from './support/check.js';
import { everything } from './support/graphs.js';
import { IrBuilder, samePadding } from './support/ir-builder.js';

const models = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/models');
const SHARED_PRESENT = existsSync(path.join(models, 'reference/cases.json'));
if (!SHARED_PRESENT) console.warn(`skipping generated C of optimized real models: ${models} is absent`);

interface GoldenCase {
  model: string;
  name: string;
  input: { data: number[] };
  expected: { data: number[] }[];
}

describe('optimized graphs through code generation', () => {
  it.skipIf(!SHARED_PRESENT)('VWW: the generated C of the optimized graph == TFLite-Micro, with a quarter of the constant bytes', async () => {
    const model = 'mlperf-tiny/vww_96_int8.tflite';
    const bytes = readFileSync(path.join(models, model));
    const graph = importTflite(bytes, model);
    const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    const optimized = optimizeGraph(graph).graph;
    // Dense storage on both sides: the saving measured here is the passes', not sparse weight storage's.
    const original = generateLibrary(graph, { modelHash: hash, sparseWeights: false });
    const library = generateLibrary(optimized, { modelHash: hash, sparseWeights: false });
    console.log(`VWW constant bytes in the generated C: ${original.constantBytes} -> ${library.constantBytes}; arena ${original.plan.arenaBytes} -> ${library.plan.arenaBytes}`);
    expect(library.constantBytes).toBeLessThan(original.constantBytes * 0.3);
    const program = await compileHostProgram(optimized, library);
    try {
      const all = (JSON.parse(readFileSync(path.join(models, 'reference/cases.json'), 'utf8')) as { cases: GoldenCase[] }).cases;
      const cases = all.filter((c) => c.model === model);
      expect(cases.length).toBeGreaterThan(0);
      const outputs = await program.run(cases.map((c) => [Int8Array.from(c.input.data)] as TensorData[]));
      cases.forEach((c, i) => expect(outputs[i]!.map((o) => Array.from(o as Int8Array)), c.name).toEqual(c.expected.map((e) => e.data)));
    } finally {
      await program.dispose();
    }
  });

  it.each([
    ['3 groups of 4, shuffled by 3 (a channel stride per group)', 3, 12, 3, /group step 1, channel step 3/],
    ['4 groups of 2, shuffled by 2 (a table of positions)', 4, 8, 2, /a table of positions/],
  ] as const)('a shuffle folded into a grouped convolution\'s store order, %s: generated C == reference', async (_, groups, channels, shuffleGroups, comment) => {
    const b = new IrBuilder(`grouped_store_order_${groups}`, 30 + groups);
    const x = b.input('x', [1, 5, 5, channels]);
    // 1x1 (the input read in place) and 3x3 (im2col) grouped convolutions, each followed by a shuffle.
    const [n, h, w] = [1, 5, 5];
    const shuffle = (t: string) => b.reshape(b.transpose(b.reshape(t, [n, h, w, shuffleGroups, channels / shuffleGroups]), [0, 1, 2, 4, 3]), [n, h, w, channels]);
    const first = b.depthwise(shuffle(b.conv(x, channels, { groups, clamp: { min: -10, max: 127 } })), { padding: samePadding(1) });
    const second = shuffle(b.conv(first, channels, { groups, kernel: [3, 3], padding: samePadding(1) }));
    b.output(b.conv(second, channels, { groups }));
    const graph = b.build();
    const optimized = optimizeGraph(graph).graph;
    expect(optimized.nodes.map((node) => node.op)).toEqual(['Conv2D', 'DepthwiseConv2D', 'Conv2D', 'Conv2D']);
    const library = generateLibrary(optimized, { modelHash: '0'.repeat(16) });
    expect([...library.files.values()].join('\n')).toMatch(comment);
    const inputs = [1, 2, 3].map((seed) => randomInputs(graph, seed));
    const program = await compileHostProgram(optimized, library);
    try {
      const outputs = await program.run(inputs);
      inputs.forEach((input, i) =>
        expect(outputs[i]!.map((o) => Array.from(o as Int8Array)), `seed ${i + 1}`).toEqual(runReference(graph, input).outputs.map((o) => Array.from(o as Int8Array))),
      );
    } finally {
      await program.dispose();
    }
  });

  it('a graph every pass rewrote: generated C == reference', async () => {
    const optimized = optimizeGraph(everything()).graph;
    const inputs = randomInputs(optimized, 5);
    const outputs = await runOnHost(optimized, inputs);
    expect(outputs.map((o) => Array.from(o as Int8Array))).toEqual(runReference(optimized, inputs).outputs.map((o) => Array.from(o as Int8Array)));
  });
});
