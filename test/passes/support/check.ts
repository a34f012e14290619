/**
 * What every pass test checks: the pass left its input graph untouched, produced a valid graph, and the reference
 * interpreter gives bit-identical outputs before and after on several seeded random inputs.
 */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { elementCount } from '../../../src/ir/graph.js';
import type { Graph, Node, TensorData } from '../../../src/ir/types.js';
import { validateGraph } from '../../../src/ir/validate.js';
import type { PassResult } from '../../../src/passes/index.js';
import { runReference } from '../../../src/reference/interpreter.js';
import { Random } from './ir-builder.js';

/** A digest of everything in a graph (structure, attributes, shapes, quantization, constant bytes). */
export function fingerprint(graph: Graph): string {
  const hash = createHash('sha256');
  const { tensors, ...rest } = graph;
  hash.update(JSON.stringify(rest));
  for (const [key, tensor] of tensors) {
    const { data, ...meta } = tensor;
    hash.update(JSON.stringify([key, meta]));
    if (data) hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest('hex');
}

/** Seeded random data for every graph input (int8 over the whole range, float32 over [-3, 3)). */
export function randomInputs(graph: Graph, seed: number): TensorData[] {
  const random = new Random(seed);
  return graph.inputs.map((io) => {
    const tensor = graph.tensors.get(io.tensor)!;
    const count = elementCount(tensor.shape);
    if (tensor.dtype === 'float32') return Float32Array.from({ length: count }, () => Math.fround(-3 + (6 * random.int(0, 1_000_000)) / 1_000_001));
    if (tensor.dtype === 'int8') return random.int8(count);
    throw new Error(`no random data for a ${tensor.dtype} input`);
  });
}

export interface SameOutputsOptions {
  seeds?: number[];
  /** Turns the inputs of `before` into the inputs of `after` (a pass that changes the input layout). */
  adaptInputs?: (inputs: TensorData[]) => TensorData[];
  /** Turns the outputs of `after` into the outputs of `before`. */
  adaptOutputs?: (outputs: TensorData[]) => TensorData[];
}

export function expectSameOutputs(before: Graph, after: Graph, options: SameOutputsOptions = {}): void {
  for (const seed of options.seeds ?? [1, 2, 3, 4]) {
    const inputs = randomInputs(before, seed);
    const expected = runReference(before, inputs).outputs;
    let actual = runReference(after, options.adaptInputs ? options.adaptInputs(inputs) : inputs).outputs;
    if (options.adaptOutputs) actual = options.adaptOutputs(actual);
    expect(actual.map((o) => Array.from(o as ArrayLike<number>)), `outputs on seed ${seed}`).toEqual(expected.map((o) => Array.from(o as ArrayLike<number>)));
  }
}

/** Run `pass` on `graph` and check it: input untouched, output valid, same outputs. */
export function checkedPass<R extends PassResult>(pass: (graph: Graph) => R, graph: Graph, options: SameOutputsOptions = {}): R {
  validateGraph(graph);
  const before = fingerprint(graph);
  const result = pass(graph);
  expect(fingerprint(graph), 'the pass must not modify its input graph').toBe(before);
  if (result.changes.length === 0) expect(result.graph).toBe(graph);
  validateGraph(result.graph);
  expectSameOutputs(graph, result.graph, options);
  return result;
}

export function opsOf(graph: Graph): Node['op'][] {
  return graph.nodes.map((node) => node.op);
}

export function nodeNamed(graph: Graph, name: string): Node {
  const node = graph.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node '${name}'`);
  return node;
}
