/**
 * The golden cases: real models on real inputs, outputs of TFLite-Micro's reference kernels
 * (/work/shared/models/reference/cases.json). Every element must match exactly; the distance to the full TFLite
 * interpreter (XNNPACK) is reported, not asserted.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importTflite } from '../../src/frontend/tflite/index.js';
import type { Graph } from '../../src/ir/types.js';
import { runReference } from '../../src/reference/interpreter.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(repoRoot, '../shared');
const casesFile = path.join(shared, 'models/reference/cases.json');
const haveShared = existsSync(casesFile);
if (!haveShared) console.warn(`skipping the golden model cases: ${casesFile} is absent`);

interface CaseOutput {
  name: string;
  dtype: string;
  shape: number[];
  scale: number;
  zero_point: number;
  data: number[];
}
interface GoldenCase {
  name: string;
  model: string;
  input: { dtype: string; data: number[] };
  expected: CaseOutput[];
  tflite_interpreter_xnnpack: CaseOutput[];
}

const cases: GoldenCase[] = haveShared ? (JSON.parse(readFileSync(casesFile, 'utf8')) as { cases: GoldenCase[] }).cases : [];
const graphs = new Map<string, Graph>();
function graphOf(model: string): Graph {
  let graph = graphs.get(model);
  if (!graph) {
    const file = path.join(shared, 'models', model);
    graph = importTflite(new Uint8Array(readFileSync(file)), file);
    graphs.set(model, graph);
  }
  return graph;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe.skipIf(!haveShared)('golden model cases (TFLite-Micro reference kernels)', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.model} reproduces TFLite-Micro bit for bit`, () => {
      const graph = graphOf(c.model);
      expect(c.input.dtype).toBe('int8');
      const started = performance.now();
      const { outputs } = runReference(graph, [Int8Array.from(c.input.data)]);
      const ms = performance.now() - started;
      expect(outputs).toHaveLength(c.expected.length);
      c.expected.forEach((expected, i) => {
        const actual = Array.from(outputs[i] as Int8Array);
        const xnnpack = c.tflite_interpreter_xnnpack[i]!.data;
        console.log(
          `${c.name}: max |diff| vs TFLite-Micro ${maxAbsDiff(actual, expected.data)}, vs TFLite/XNNPACK ${maxAbsDiff(actual, xnnpack)} ` +
            `(${actual.length} values, ${ms.toFixed(0)} ms)`,
        );
        expect(actual).toEqual(expected.data);
      });
    });
  }

  it('hello_world: the dequantized outputs are within 0.05 of sin(x)', () => {
    const helloCases = cases.filter((c) => c.model === 'tflm/hello_world_int8.tflite');
    expect(helloCases.length).toBeGreaterThan(0);
    const graph = graphOf('tflm/hello_world_int8.tflite');
    const inputQuant = graph.tensors.get(graph.inputs[0]!.tensor)!.quant!;
    const outputQuant = graph.tensors.get(graph.outputs[0]!.tensor)!.quant!;
    for (const c of helloCases) {
      const q = c.input.data[0]!;
      const x = inputQuant.scale[0]! * (q - inputQuant.zeroPoint[0]!);
      const y = (runReference(graph, [Int8Array.from(c.input.data)]).outputs[0] as Int8Array)[0]!;
      const real = outputQuant.scale[0]! * (y - outputQuant.zeroPoint[0]!);
      expect(Math.abs(real - Math.sin(x))).toBeLessThanOrEqual(0.05);
    }
  });
});
