/**
 * The passes on graphs the ONNX frontend makes from QDQ models (NCHW at the boundary, Transposes around layout-bound
 * ops): the NCHW channel shuffle, Flatten before Gemm, and the optional boundary-Transpose folding.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../src/frontend/onnx/index.js';
import { elementCount, stridesOf } from '../../src/ir/graph.js';
import type { Graph, TensorData } from '../../src/ir/types.js';
import { optimizeGraph } from '../../src/passes/index.js';
import { runReference } from '../../src/reference/interpreter.js';
import { expectSameOutputs, opsOf, randomInputs } from './support/check.js';
import { bindParameterInputs, readTestDataSet } from '../support/onnx-testdata.js';
import { ACTIVATION_SCALE, INPUT_SCALE, qdqConv, qdqModel } from './support/onnx-models.js';

const models = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/models');
const haveShared = existsSync(models);
if (!haveShared) console.warn(`skipping the ONNX backend-test models in the pass tests: ${models} is absent`);

/** The ONNX backend / contrib test models that import; `runnable` when the reference runs them on int8 / float inputs. */
function backendGraphs(): { name: string; graph: Graph; runnable: boolean }[] {
  if (!haveShared) return [];
  return ['onnx-node-tests', 'onnx-contrib-tests'].flatMap((group) =>
    readdirSync(path.join(models, group))
      .filter((name) => existsSync(path.join(models, group, name, 'test_data_set_0')))
      .flatMap((name) => {
        const dir = path.join(models, group, name);
        try {
          const bound = bindParameterInputs(readFileSync(path.join(dir, 'model.onnx')), readTestDataSet(dir));
          const graph = importOnnx(bound.bytes, `${name}/model.onnx`);
          return [{ name, graph, runnable: runs(graph) }];
        } catch {
          return []; // what the frontend refuses is the frontend tests' business
        }
      }),
  );
}

/** ONNX's NCHW channel shuffle: Reshape [N,g,C/g,H,W] -> Transpose [0,2,1,3,4] -> Reshape [N,C,H,W]. */
function shuffleModel(): Graph {
  return qdqModel('nchw_shuffle', [1, 8, 6, 6], [1, 4, 6, 6], (b, x) => {
    const c = qdqConv(b, x, INPUT_SCALE, 8, 8, { relu: true });
    const split = b.node('Reshape', [c, b.initializer('split_shape', 'int64', [5], [1, 2, 4, 6, 6])], ['split'], {}, { name: 'split' });
    const swapped = b.node('Transpose', [split], ['swapped'], { perm: [0, 2, 1, 3, 4] }, { name: 'swap' });
    const merged = b.node('Reshape', [swapped, b.initializer('merge_shape', 'int64', [4], [1, 8, 6, 6])], ['merged'], {}, { name: 'merge' });
    return qdqConv(b, merged, ACTIVATION_SCALE, 8, 4, { kernel: 3 });
  });
}

/** Conv -> Flatten (NCHW order) -> Gemm. */
function flattenModel(): Graph {
  return qdqModel('nchw_flatten', [1, 3, 4, 4], [1, 5], (b, x) => {
    const c = qdqConv(b, x, INPUT_SCALE, 3, 6);
    const flat = b.node('Flatten', [c], ['flat'], { axis: 1 }, { name: 'flatten' });
    const scales = Array.from({ length: 5 }, () => 0.003);
    const w = b.quantizedInitializer('gemm_w', 'int8', [5, 96], Array.from({ length: 480 }, (_, i) => ((i * 37) % 255) - 127), 0.003, 0);
    const bias = b.quantizedInitializer('gemm_b', 'int32', [5], [100, -200, 300, 0, 50], Math.fround(ACTIVATION_SCALE * scales[0]!), 0);
    return b.node('Gemm', [flat, w, bias], ['gemm'], { transB: 1 }, { name: 'gemm' });
  });
}

function runs(graph: Graph): boolean {
  if (graph.unsupported.length > 0 || !graph.inputs.every((io) => ['int8', 'float32'].includes(graph.tensors.get(io.tensor)!.dtype))) return false;
  try {
    runReference(graph, randomInputs(graph, 1));
    return true;
  } catch {
    return false;
  }
}

function permuteData(data: TensorData, shape: readonly number[], perm: readonly number[]): TensorData {
  const out = new (data.constructor as new (n: number) => TensorData)(data.length) as unknown as number[];
  const strides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]!);
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < elementCount(outShape); i++) {
    out[i] = (data as unknown as number[])[index.reduce((sum, v, axis) => sum + v * strides[perm[axis]!]!, 0)]!;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis]! < outShape[axis]!) break;
      index[axis] = 0;
    }
  }
  return out as unknown as TensorData;
}

describe('passes on ONNX (NCHW) imports', () => {
  it('the NCHW channel shuffle and its layout Transposes fold away; outputs stay bit-identical', () => {
    const graph = shuffleModel();
    expect(opsOf(graph).filter((op) => op === 'Transpose')).toHaveLength(5);
    const { graph: optimized, log } = optimizeGraph(graph);
    expect(opsOf(optimized)).toEqual(['Quantize', 'Transpose', 'Conv2D', 'Conv2D', 'Transpose', 'Dequantize']);
    expect(log.find((e) => e.pass === 'fold-channel-shuffle')!.changes).toHaveLength(1);
    expectSameOutputs(graph, optimized);
  });

  it('Flatten in NCHW order before Gemm folds into the FullyConnected weight columns', () => {
    const graph = flattenModel();
    expect(opsOf(graph)).toContain('Transpose');
    const { graph: optimized, log } = optimizeGraph(graph);
    expect(opsOf(optimized)).toEqual(['Quantize', 'Transpose', 'Conv2D', 'FullyConnected', 'Dequantize']);
    expect(log.find((e) => e.pass === 'fold-movement-into-fully-connected')!.changes).toHaveLength(1);
    expectSameOutputs(graph, optimized);
  });

  it('fold-io-transposes (opt-in) moves the boundary Transposes out of the graph and records NCHW on the I/O', () => {
    const graph = shuffleModel();
    const kept = optimizeGraph(graph).graph;
    expect(kept.inputs[0]!.layout).toBeUndefined();
    const { graph: folded } = optimizeGraph(graph, { foldIoTransposes: true });
    expect(opsOf(folded)).toEqual(['Quantize', 'Conv2D', 'Conv2D', 'Dequantize']);
    expect(folded.inputs).toEqual([{ tensor: 'input', externalDtype: 'float32', name: 'input', layout: 'NCHW' }]);
    expect(folded.outputs.map((io) => io.layout)).toEqual(['NCHW']);
    expect(folded.tensors.get('input')!.shape).toEqual([1, 6, 6, 8]);
    expect(folded.tensors.get(folded.outputs[0]!.tensor)!.shape).toEqual([1, 6, 6, 4]);
    expectSameOutputs(graph, folded, {
      adaptInputs: (inputs) => [permuteData(inputs[0]!, [1, 8, 6, 6], [0, 2, 3, 1])],
      adaptOutputs: (outputs) => [permuteData(outputs[0]!, [1, 6, 6, 4], [0, 3, 1, 2])],
    });
  });

  it.skipIf(!haveShared)('every runnable ONNX backend-test model keeps its outputs under optimizeGraph (with and without fold-io-transposes)', () => {
    const all = backendGraphs();
    // Models the reference cannot run (per-axis DequantizeLinear, ...) are still optimized without an error.
    for (const { graph } of all) optimizeGraph(graph);
    const graphs = all.filter((g) => g.runnable);
    expect(graphs.length).toBeGreaterThan(5);
    console.log(`optimizing ${graphs.length} ONNX backend-test models: ${graphs.map((g) => g.name).join(', ')}`);
    for (const { graph } of graphs) {
      const { graph: optimized } = optimizeGraph(graph);
      expectSameOutputs(graph, optimized, { seeds: [1, 2] });
      const folded = optimizeGraph(graph, { foldIoTransposes: true }).graph;
      const inputShapes = graph.inputs.map((io) => graph.tensors.get(io.tensor)!.shape);
      const outputShapes = folded.outputs.map((io) => folded.tensors.get(io.tensor)!.shape);
      expectSameOutputs(graph, folded, {
        seeds: [3],
        adaptInputs: (inputs) => inputs.map((data, i) => (folded.inputs[i]!.layout ? permuteData(data, inputShapes[i]!, [0, 2, 3, 1]) : data)),
        adaptOutputs: (outputs) => outputs.map((data, i) => (folded.outputs[i]!.layout ? permuteData(data, outputShapes[i]!, [0, 3, 1, 2]) : data)),
      });
    }
  });
});
