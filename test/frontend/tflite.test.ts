/**
 * The TFLite frontend on the real models of ../shared/models: every one imports, KWS and a legacy uint8 model
 * structurally exact, and broken files (truncated, random, corrupted, an unknown op patched in) fail as ModelError or
 * land in graph.unsupported — never as a RangeError.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ByteBuffer } from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { ModelError, TinyedgeError } from '../../src/errors.js';
import { importTflite } from '../../src/frontend/tflite/index.js';
import type { Graph, Node, Tensor } from '../../src/ir/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(repoRoot, '../shared');
const models = path.join(shared, 'models');
const haveShared = existsSync(models);
if (!haveShared) console.warn(`skipping TFLite real-model tests: ${models} is absent`);

function tfliteFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return tfliteFiles(full);
    return entry.name.endsWith('.tflite') ? [full] : [];
  });
}

function load(relative: string): { file: string; bytes: Uint8Array } {
  const file = path.join(models, relative);
  return { file, bytes: new Uint8Array(readFileSync(file)) };
}

function tensor(graph: Graph, name: string): Tensor {
  const found = graph.tensors.get(name);
  if (!found) throw new Error(`no tensor ${name}`);
  return found;
}

function shapeOf(graph: Graph, name: string): number[] {
  return tensor(graph, name).shape;
}

/** The ModelError an import throws (and that it is one). */
function importError(bytes: Uint8Array, file: string): ModelError {
  try {
    importTflite(bytes, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelError);
    return error as ModelError;
  }
  throw new Error('the import did not fail');
}

/** Rewrites every operator code `from` into `to`, in both the byte and the int32 field (schema.fbs OperatorCode). */
function patchOperatorCode(original: Uint8Array, from: number, to: number): Uint8Array {
  const bytes = original.slice();
  const bb = new ByteBuffer(bytes);
  const field = (table: number, id: number): number => bb.__offset(table, 4 + 2 * id);
  const model = bb.readInt32(0);
  const codes = model + field(model, 1);
  const start = bb.__vector(codes);
  let patched = 0;
  for (let i = 0; i < bb.__vector_len(codes); i++) {
    const code = bb.__indirect(start + 4 * i);
    const deprecated = field(code, 0);
    const builtin = field(code, 3);
    const value = Math.max(deprecated ? bb.readInt8(code + deprecated) : 0, builtin ? bb.readInt32(code + builtin) : 0);
    if (value !== from) continue;
    if (deprecated) bb.writeInt8(code + deprecated, Math.min(to, 127));
    if (builtin) bb.writeInt32(code + builtin, to);
    patched++;
  }
  if (patched === 0) throw new Error(`no operator code ${from} to patch`);
  return bytes;
}

describe.skipIf(!haveShared)('TFLite frontend on the shared models', () => {
  it('imports every .tflite without error or unsupported op', () => {
    const files = tfliteFiles(models);
    expect(files.length).toBeGreaterThanOrEqual(15);
    for (const file of files) {
      const graph = importTflite(new Uint8Array(readFileSync(file)), file);
      expect(graph.format, file).toBe('tflite');
      expect(graph.unsupported, file).toEqual([]);
      expect(graph.nodes.length, file).toBeGreaterThan(0);
      expect(new Set(graph.nodes.map((node) => node.name)).size, file).toBe(graph.nodes.length);
      for (const node of graph.nodes) {
        for (const name of [...node.inputs, ...node.outputs]) if (name) expect(graph.tensors.has(name), name).toBe(true);
      }
      for (const io of [...graph.inputs, ...graph.outputs]) expect(graph.tensors.has(io.tensor), io.tensor).toBe(true);
    }
  });

  describe('MLPerf Tiny KWS (DS-CNN, int8 per-channel)', () => {
    const { file, bytes } = load('mlperf-tiny/kws_ref_model.tflite');
    const graph = importTflite(bytes, file);

    it('has the DS-CNN op sequence, named after the output tensors', () => {
      expect(graph.name).toBe('kws_ref_model');
      expect(graph.nodes.map((node) => node.op)).toEqual([
        'Conv2D',
        ...Array(4).fill(['DepthwiseConv2D', 'Conv2D']).flat(),
        'AveragePool2D',
        'Reshape',
        'FullyConnected',
        'Softmax',
      ]);
      for (const node of graph.nodes) expect(node.name).toBe(node.outputs[0]);
      expect(graph.inputs).toEqual([{ tensor: 'input_1', externalDtype: 'int8', name: 'input_1' }]);
      expect(graph.outputs).toEqual([{ tensor: 'Identity', externalDtype: 'int8', name: 'Identity' }]);
    });

    it('has the shapes, strides and paddings TFLite computes', () => {
      const [conv, ...rest] = graph.nodes as [Node, ...Node[]];
      expect(shapeOf(graph, conv.inputs[0]!)).toEqual([1, 49, 10, 1]);
      expect(shapeOf(graph, conv.inputs[1]!)).toEqual([64, 10, 4, 1]);
      expect(shapeOf(graph, conv.outputs[0]!)).toEqual([1, 25, 5, 64]);
      // SAME, 10x4 filter, stride 2: rows need (25 - 1) * 2 + 10 - 49 = 9 padding, the odd one at the bottom.
      expect(conv.attrs).toEqual({
        stride: [2, 2],
        dilation: [1, 1],
        padding: { top: 4, bottom: 5, left: 1, right: 1 },
        groups: 1,
        clamp: { min: -128, max: 127 },
      });
      for (let block = 0; block < 4; block++) {
        const depthwise = rest[2 * block]!;
        const pointwise = rest[2 * block + 1]!;
        expect(depthwise.op).toBe('DepthwiseConv2D');
        expect(depthwise.attrs).toMatchObject({
          stride: [1, 1],
          dilation: [1, 1],
          padding: { top: 1, bottom: 1, left: 1, right: 1 },
          depthMultiplier: 1,
        });
        expect(shapeOf(graph, depthwise.inputs[1]!)).toEqual([1, 3, 3, 64]);
        expect(pointwise.attrs).toMatchObject({ stride: [1, 1], padding: { top: 0, bottom: 0, left: 0, right: 0 } });
        expect(shapeOf(graph, pointwise.inputs[1]!)).toEqual([64, 1, 1, 64]);
        expect(shapeOf(graph, pointwise.outputs[0]!)).toEqual([1, 25, 5, 64]);
      }
      const [pool, reshape, dense, softmax] = rest.slice(8);
      expect(pool!.attrs).toEqual({
        filter: [25, 5],
        stride: [25, 5],
        padding: { top: 0, bottom: 0, left: 0, right: 0 },
        clamp: { min: -128, max: 127 },
      });
      expect(shapeOf(graph, pool!.outputs[0]!)).toEqual([1, 1, 1, 64]);
      expect(reshape!.attrs).toEqual({ shape: [1, 64] });
      // The file's shape operand holds -1; the IR keeps only the data input and the resolved shape.
      expect(reshape!.inputs).toHaveLength(1);
      expect(dense!.attrs).toEqual({ clamp: { min: -128, max: 127 }, keepNumDims: false });
      expect(shapeOf(graph, dense!.inputs[1]!)).toEqual([12, 64]);
      expect(softmax!.attrs).toEqual({ beta: 1 });
      expect(shapeOf(graph, softmax!.outputs[0]!)).toEqual([1, 12]);
    });

    it('keeps per-channel scales along the right axis, as float32 values', () => {
      for (const node of graph.nodes.filter((n) => n.op === 'Conv2D' || n.op === 'DepthwiseConv2D')) {
        const weights = tensor(graph, node.inputs[1]!);
        const bias = tensor(graph, node.inputs[2]!);
        expect(weights.quant!.scale).toHaveLength(64);
        expect(weights.quant!.axis).toBe(node.op === 'Conv2D' ? 0 : 3);
        expect(weights.quant!.zeroPoint).toEqual(Array(64).fill(0));
        expect(weights.data).toBeInstanceOf(Int8Array);
        expect(bias.dtype).toBe('int32');
        expect(bias.data).toBeInstanceOf(Int32Array);
        expect(bias.quant!.scale).toHaveLength(64);
      }
      const dense = graph.nodes.find((n) => n.op === 'FullyConnected')!;
      expect(tensor(graph, dense.inputs[1]!).quant!.scale).toHaveLength(1);
      for (const t of graph.tensors.values()) {
        for (const scale of t.quant?.scale ?? []) expect(Math.fround(scale)).toBe(scale);
      }
      const input = tensor(graph, 'input_1');
      expect(input.quant).toEqual({ scale: [0.5847029089927673], zeroPoint: [83], axis: 0 });
      expect(input.data).toBeUndefined();
    });

    it('reads constant data the same from an unaligned copy of the file', () => {
      const unaligned = new Uint8Array(bytes.length + 3).subarray(3);
      unaligned.set(bytes);
      const again = importTflite(unaligned, file);
      for (const [name, original] of graph.tensors) {
        expect(again.tensors.get(name)!.data, name).toEqual(original.data);
      }
      const firstWeights = tensor(again, again.nodes[0]!.inputs[1]!);
      expect(firstWeights.data!.length).toBe(64 * 10 * 4);
    });

    it('reads the same from a Node Buffer (whose slice() shares memory)', () => {
      const fromBuffer = importTflite(readFileSync(file), file);
      for (const [name, original] of graph.tensors) {
        expect(fromBuffer.tensors.get(name)!.data, name).toEqual(original.data);
      }
    });
  });

  describe('legacy uint8 models', () => {
    it('shifts conv-relu.uint8 to int8: data and zero points by -128, uint8 kept at the boundary', () => {
      const { file, bytes } = load('tflite-uint8/conv-relu.uint8.tflite');
      const graph = importTflite(bytes, file);
      expect(graph.inputs).toEqual([{ tensor: 'input', externalDtype: 'uint8', name: 'input' }]);
      expect(graph.outputs).toEqual([{ tensor: 'output', externalDtype: 'uint8', name: 'output' }]);
      const [conv] = graph.nodes;
      expect(conv!.op).toBe('Conv2D');
      expect(conv!.inputs).toEqual(['input', 'Variable', 'Conv2D_bias']);
      const input = tensor(graph, 'input');
      const weights = tensor(graph, 'Variable');
      const bias = tensor(graph, 'Conv2D_bias');
      const output = tensor(graph, 'output');
      // In the file: input Z 50, weights Z 130 (uint8 weights 150, 151, 153, 57, 129, ...), output Z 85, bias 10502, ...
      expect(input).toMatchObject({ dtype: 'int8', shape: [1, 4, 4, 3], quant: { zeroPoint: [-78] } });
      expect(weights).toMatchObject({ dtype: 'int8', shape: [3, 2, 2, 3], quant: { zeroPoint: [2] } });
      expect(Array.from(weights.data as Int8Array).slice(0, 5)).toEqual([22, 23, 25, -71, 1]);
      expect(output.quant!.zeroPoint).toEqual([-43]);
      expect(bias).toMatchObject({ dtype: 'int32', quant: { zeroPoint: [0] } });
      expect(Array.from(bias.data as Int32Array)).toEqual([10502, 34501, 13726]);
      expect(input.quant!.scale).toEqual([Math.fround(0.014285714365541935)]);
      // Fused RELU: the output's zero point is the real 0. SAME, 2x2 filter, stride 1 pads one at bottom/right.
      expect(conv!.attrs).toEqual({
        stride: [1, 1],
        dilation: [1, 1],
        padding: { top: 0, bottom: 1, left: 0, right: 1 },
        groups: 1,
        clamp: { min: -43, max: 127 },
      });
    });

    it('imports mobilenet_v1_0.25_128_quant entirely as int8 with uint8 at the boundary', () => {
      const { file, bytes } = load('tflite-uint8/mobilenet_v1_0.25_128_quant.tflite');
      const graph = importTflite(bytes, file);
      expect(graph.inputs.map((io) => io.externalDtype)).toEqual(['uint8']);
      expect(graph.outputs.map((io) => io.externalDtype)).toEqual(['uint8']);
      for (const t of graph.tensors.values()) {
        if (t.quant && t.dtype !== 'int32') expect(t.dtype, t.name).toBe('int8');
        for (const z of t.quant?.zeroPoint ?? []) expect(z).toBeGreaterThanOrEqual(-128);
      }
      const firstConv = graph.nodes[0]!;
      expect(firstConv.op).toBe('Conv2D');
      expect(tensor(graph, firstConv.inputs[1]!).quant!.zeroPoint[0]).not.toBe(0);
      const ops = new Set(graph.nodes.map((node) => node.op));
      expect(ops).toEqual(new Set(['Conv2D', 'DepthwiseConv2D', 'AveragePool2D', 'Reshape', 'Softmax']));
    });
  });

  it("accepts person_detect's 1-D biases quantized along dimension 3 as axis 0", () => {
    const { file, bytes } = load('tflm/person_detect.tflite');
    const graph = importTflite(bytes, file);
    const depthwise = graph.nodes.find((node) => node.op === 'DepthwiseConv2D')!;
    const bias = tensor(graph, depthwise.inputs[2]!);
    expect(bias.shape).toHaveLength(1);
    expect(bias.quant!.scale.length).toBe(bias.shape[0]);
    expect(bias.quant!.axis).toBe(0);
    // The first layer is depthwise with one input channel: depth multiplier 8.
    expect(depthwise.attrs).toMatchObject({ depthMultiplier: 8, stride: [2, 2] });
  });

  describe('broken files', () => {
    const { file, bytes } = load('mlperf-tiny/kws_ref_model.tflite');

    it('reports a truncated file as an invalid flatbuffer, naming the file', () => {
      const error = importError(bytes.subarray(0, bytes.length >> 1), file);
      expect(error.message).toMatch(/kws_ref_model\.tflite: is not a valid TFLite flatbuffer \(.+\)$/);
      expect(error.message).toContain('outside');
      expect(error.message).not.toContain('\n');
    });

    it('reports every truncation as a ModelError, never another error', () => {
      for (const length of [0, 3, 7, 8, 12, 64, 200, 1000, 5000, 20000, bytes.length - 1]) {
        const error = importError(bytes.subarray(0, length), file);
        expect(error.message, `length ${length}`).toContain('is not a valid TFLite flatbuffer');
      }
    });

    it('reports random bytes by their file identifier', () => {
      let seed = 12345;
      const random = Uint8Array.from({ length: 4096 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      random[4] = 0x89; // not 'TFL3' whatever the generator gives
      const error = importError(random, 'noise.bin');
      expect(error.message).toMatch(/^noise\.bin: is not a valid TFLite flatbuffer \(file identifier is 0x89[0-9a-f]{6}, expected 'TFL3'\)$/);
    });

    it('survives corrupted bytes inside a real model: a graph or a TinyedgeError, nothing else', () => {
      const { bytes: small } = load('tflm/hello_world_int8.tflite');
      let seed = 7;
      const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0);
      for (let round = 0; round < 300; round++) {
        const corrupt = small.slice();
        for (let k = 0; k < 4; k++) corrupt[8 + (next() % (corrupt.length - 8))] = next() >>> 24;
        try {
          importTflite(corrupt, 'hello_world_int8.tflite');
        } catch (error) {
          if (!(error instanceof TinyedgeError)) throw new Error(`round ${round}: ${String(error)}`);
        }
      }
    });

    it('lists an op patched to an unknown one in graph.unsupported, naming the node', () => {
      const { file: speech, bytes: speechBytes } = load('tflm/micro_speech_quantized.tflite');
      const graph = importTflite(patchOperatorCode(speechBytes, 25 /* SOFTMAX */, 66 /* SIN */), speech);
      expect(graph.unsupported).toEqual([{ node: 'labels_softmax', op: 'SIN' }]);
      expect(graph.nodes.map((node) => node.op)).toEqual(['Reshape', 'DepthwiseConv2D', 'FullyConnected']);
    });

    it('lists all unsupported ops at once', () => {
      const graph = importTflite(patchOperatorCode(bytes, 4 /* DEPTHWISE_CONV_2D */, 12 /* L2_POOL_2D */), file);
      expect(graph.unsupported).toHaveLength(4);
      for (const entry of graph.unsupported) {
        expect(entry.op).toBe('L2_POOL_2D');
        expect(entry.node).toMatch(/^functional_1\/activation_[1357]\/Relu/);
      }
      expect(graph.nodes).toHaveLength(9);
    });
  });
});
