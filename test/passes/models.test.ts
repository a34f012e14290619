/**
 * The whole pipeline on every real model in ../shared/models: the optimized graph reproduces the golden outputs of
 * reference/cases.json (TFLite-Micro's reference kernels) bit for bit, and equals the unoptimized graph on seeded
 * random inputs. What the passes achieved on each model is printed (and, for the pruned MLPerf VWW model, asserted).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importTflite } from '../../src/frontend/tflite/index.js';
import { graphCost } from '../../src/ir/cost.js';
import { resolveReshape } from '../../src/ir/shapes.js';
import type { Graph } from '../../src/ir/types.js';
import { optimizeGraph, type OptimizeResult } from '../../src/passes/index.js';
import { runReference } from '../../src/reference/interpreter.js';
import { expectSameOutputs, fingerprint } from './support/check.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const models = path.resolve(repoRoot, '../shared/models');
const casesFile = path.join(models, 'reference/cases.json');
const haveShared = existsSync(casesFile);
if (!haveShared) console.warn(`skipping the real-model pass tests: ${models} is absent`);

interface GoldenCase {
  name: string;
  model: string;
  input: { dtype: string; data: number[] };
  expected: { data: number[] }[];
}

const cases: GoldenCase[] = haveShared ? (JSON.parse(readFileSync(casesFile, 'utf8')) as { cases: GoldenCase[] }).cases : [];
const tfliteModels = haveShared
  ? readdirSync(models, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.tflite'))
      .sort()
  : [];

const optimized = new Map<string, { graph: Graph; result: OptimizeResult }>();
function optimizedModel(model: string): { graph: Graph; result: OptimizeResult } {
  let entry = optimized.get(model);
  if (!entry) {
    const file = path.join(models, model);
    const graph = importTflite(new Uint8Array(readFileSync(file)), file);
    const before = fingerprint(graph);
    const result = optimizeGraph(graph);
    expect(fingerprint(graph), 'optimizeGraph must not modify its input').toBe(before);
    entry = { graph, result };
    optimized.set(model, entry);
  }
  return entry;
}

describe.skipIf(!haveShared)('the passes on the real models', () => {
  for (const model of tfliteModels) {
    it(`${model}: optimized == original on random inputs${cases.some((c) => c.model === model) ? ' and == TFLite-Micro on the golden cases' : ''}`, () => {
      const { graph, result } = optimizedModel(model);
      const changes = result.log.flatMap((entry) => entry.changes.map((change) => `  ${entry.pass}: ${change}`));
      const macs = result.pruning ? `MACs ${result.pruning.macsBefore} -> ${result.pruning.macsAfter}, parameter bytes ${result.pruning.paramBytesBefore} -> ${result.pruning.paramBytesAfter}` : '';
      console.log(`${model}: ${graph.nodes.length} -> ${result.graph.nodes.length} nodes; ${macs}; weight sparsity ${(100 * result.sparsity.sparsity).toFixed(1)}%\n${changes.join('\n')}`);
      expectSameOutputs(graph, result.graph, { seeds: [1, 2] });
      // A Reshape's constant shape operand (kept by the TFLite frontend) still says what the node does.
      for (const node of result.graph.nodes) {
        const operand = node.op === 'Reshape' && node.inputs[1] ? result.graph.tensors.get(node.inputs[1])!.data : undefined;
        if (!operand) continue;
        const inputShape = result.graph.tensors.get(node.inputs[0]!)!.shape;
        expect(resolveReshape(inputShape, Array.from(operand as Int32Array, Number)), node.name).toEqual(result.graph.tensors.get(node.outputs[0]!)!.shape);
      }
      for (const c of cases.filter((c) => c.model === model)) {
        const outputs = runReference(result.graph, [Int8Array.from(c.input.data)]).outputs;
        expect(outputs.map((o) => Array.from(o as Int8Array)), c.name).toEqual(c.expected.map((e) => e.data));
      }
    });
  }

  it('MLPerf Tiny VWW (structurally pruned MobileNet): the pruned channels go, and with them 40% of the MACs and 70% of the weights', () => {
    const { graph, result } = optimizedModel('mlperf-tiny/vww_96_int8.tflite');
    const pruning = result.pruning!;
    expect(pruning.macsBefore).toBe(7_489_664);
    expect(graphCost(result.graph).macs).toBe(pruning.macsAfter);
    expect(pruning.macsAfter).toBeLessThan(pruning.macsBefore * 0.6);
    expect(pruning.paramBytesAfter).toBeLessThan(pruning.paramBytesBefore * 0.3);
    const removedChannels = pruning.removed.reduce((sum, r) => sum + r.channels.length, 0);
    console.log(
      `VWW: removed ${removedChannels} channels in ${pruning.removed.length} layers; MACs ${pruning.macsBefore} -> ${pruning.macsAfter} ` +
        `(-${(100 * (1 - pruning.macsAfter / pruning.macsBefore)).toFixed(1)}%), parameter bytes ${pruning.paramBytesBefore} -> ${pruning.paramBytesAfter}`,
    );
    expect(result.graph.nodes.map((n) => n.op)).toEqual(graph.nodes.map((n) => n.op));
  });
});
