/**
 * The host harness's write checks: a correct library passes them (every other host test runs with them on), and a
 * deliberately broken kernel — one extra byte written outside its output — is caught, naming the layer, whether the
 * byte lands in another tensor, past the arena or past a caller's output buffer. Compile errors surface gcc's message.
 */
import { describe, expect, it } from 'vitest';
import { compileHostProgram, HostBuildError, HostRunError, runOnHost } from '../../src/build/host.js';
import { generateLibrary, type GeneratedLibrary } from '../../src/codegen/index.js';
import { InputError } from '../../src/errors.js';
import type { Graph, TensorData } from '../../src/ir/types.js';
import { runReference } from '../../src/reference/interpreter.js';
import { mergeLayers, randomLayer } from './support/layers.js';

/** A convolution and a depthwise convolution side by side, each with its im2col or direct loops. */
function smallNetwork(): { graph: Graph; inputs: TensorData[] } {
  return mergeLayers('checked', [randomLayer('conv2d', 7, 'a'), randomLayer('depthwise', 8, 'b')]);
}

/** Inserts `statement` at the end of the body of layer `layer`'s function in the model source. */
function injectIntoKernel(library: GeneratedLibrary, layer: number, statement: string): GeneratedLibrary {
  const fn = library.layers[layer]!.function!;
  const modelFile = [...library.files.keys()].find((f) => f === `tinyedge_${library.prefix}.c`)!;
  const source = library.files.get(modelFile)!;
  const start = source.indexOf(`static void ${fn}(`);
  const end = source.indexOf('\n}\n', start);
  expect(start).toBeGreaterThan(0);
  const broken = `${source.slice(0, end)}\n    ${statement} /* fault injected by the test */${source.slice(end)}`;
  return { ...library, files: new Map([...library.files, [modelFile, broken]]) };
}

/** A chain pointwise conv -> Relu -> Neg -> output: layer 1 reads and writes the arena, layer 2 the caller's output. */
function chainGraph(): { graph: Graph; inputs: TensorData[] } {
  const conv = randomLayer('pointwise', 11, 'c');
  const { graph, inputs } = mergeLayers('chain', [conv]);
  const y = conv.outputs[0]!;
  const yTensor = graph.tensors.get(y)!;
  if (yTensor.dtype !== 'int8') throw new Error('seed 11 must give an int8 output');
  const relu = { ...yTensor, name: 'relu_out' };
  const last = { ...yTensor, name: 'last_out' };
  graph.tensors.set(relu.name, relu);
  graph.tensors.set(last.name, last);
  graph.nodes.push({ op: 'Relu', name: 'relu', inputs: [y], outputs: [relu.name], attrs: {} });
  graph.nodes.push({ op: 'Neg', name: 'neg', inputs: [relu.name], outputs: [last.name], attrs: {} });
  graph.outputs = [{ tensor: last.name, externalDtype: 'int8', name: 'last' }];
  return { graph, inputs };
}

describe('host write checks', () => {
  it('pass on a correct library and give the reference outputs', async () => {
    const { graph, inputs } = smallNetwork();
    const outputs = await runOnHost(graph, inputs);
    expect(outputs.map((o) => Array.from(o as Int8Array))).toEqual(runReference(graph, inputs).outputs.map((o) => Array.from(o as Int8Array)));
  });

  it('catch a kernel writing into another live tensor of the arena', async () => {
    const { graph, inputs } = chainGraph();
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16) });
    // Layer 1 (Relu) reads the conv output and writes its own: poke the first byte of its input instead.
    const input = library.plan.tensors.find((t) => t.name === graph.nodes[1]!.inputs[0])!;
    const output = library.plan.tensors.find((t) => t.name === graph.nodes[1]!.outputs[0])!;
    expect(input.buffer).toBe('arena');
    expect(output.buffer).toBe('arena');
    const program = await compileHostProgram(graph, injectIntoKernel(library, 1, `output[${input.offset - output.offset}] ^= 0x5a;`));
    try {
      await expect(program.run([inputs])).rejects.toThrow(/layer 1 \(Relu 'relu'\)/);
      await expect(program.run([inputs])).rejects.toThrow(HostRunError);
      await expect(program.run([inputs])).rejects.toThrow(/wrote arena bytes outside its outputs and scratch/);
    } finally {
      await program.dispose();
    }
  });

  it('catch a kernel writing past the end of the arena', async () => {
    const { graph, inputs } = chainGraph();
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16) });
    const output = library.plan.tensors.find((t) => t.name === graph.nodes[1]!.outputs[0])!;
    const beyond = library.plan.arenaBytes - output.offset + 3; // inside the guard zone after the arena
    const program = await compileHostProgram(graph, injectIntoKernel(library, 1, `output[${beyond}] = (int8_t)(output[${beyond}] ^ 0x5a);`));
    try {
      await expect(program.run([inputs])).rejects.toThrow(/layer 1 .*past the end of the arena|wrote past the end of the arena: layer 1/);
    } finally {
      await program.dispose();
    }
  });

  it('catch a kernel writing before the arena', async () => {
    const { graph, inputs } = chainGraph();
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16) });
    const output = library.plan.tensors.find((t) => t.name === graph.nodes[1]!.outputs[0])!;
    const before = -output.offset - 1;
    const program = await compileHostProgram(graph, injectIntoKernel(library, 1, `output[${before}] = (int8_t)(output[${before}] ^ 0x5a);`));
    try {
      await expect(program.run([inputs])).rejects.toThrow(/guard bytes before the arena: layer 1/);
    } finally {
      await program.dispose();
    }
  });

  it("catch a kernel writing past a caller's output buffer", async () => {
    const { graph, inputs } = chainGraph();
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16) });
    const last = library.plan.tensors.find((t) => t.name === 'last_out')!;
    expect(last.buffer).toBe('output');
    const program = await compileHostProgram(graph, injectIntoKernel(library, 2, `output[${last.bytes}] = 1;`));
    try {
      await expect(program.run([inputs])).rejects.toThrow(/output 0 was written outside its bounds/);
    } finally {
      await program.dispose();
    }
  });

  it("catch a kernel writing into the caller's input", async () => {
    const { graph, inputs } = chainGraph();
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16) });
    const program = await compileHostProgram(graph, injectIntoKernel(library, 0, '((int8_t *)(void *)input)[0] ^= 1;'));
    try {
      await expect(program.run([inputs])).rejects.toThrow(/input 0 was modified/);
    } finally {
      await program.dispose();
    }
  });

  it("surface the compiler's message when the generated code does not compile", async () => {
    const { graph } = chainGraph();
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16) });
    const error = await compileHostProgram(graph, injectIntoKernel(library, 1, 'this is not C;')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostBuildError);
    expect((error as Error).message).toMatch(/gcc failed on the generated code for 'chain'/);
    expect((error as Error).message).toMatch(/error: unknown type name 'this'/);
  });

  it('reject inputs of the wrong size with an InputError', async () => {
    const { graph, inputs } = chainGraph();
    const wrong = new Int8Array(inputs[0]!.length + 1);
    await expect(runOnHost(graph, [wrong])).rejects.toThrow(InputError);
  });

  it('run many input records through one compiled program', async () => {
    const { graph, inputs } = chainGraph();
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16) });
    const program = await compileHostProgram(graph, library);
    try {
      const records = [0, 1, 2].map((k) => [Int8Array.from(inputs[0] as Int8Array, (v) => ((v + 37 * k) << 24) >> 24)] as TensorData[]);
      const outputs = await program.run(records);
      records.forEach((record, k) => {
        expect(Array.from(outputs[k]![0] as Int8Array)).toEqual(Array.from(runReference(graph, record).outputs[0] as Int8Array));
      });
    } finally {
      await program.dispose();
    }
  });
});
