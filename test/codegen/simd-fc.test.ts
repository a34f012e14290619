/**
 * The DSP fully connected kernel (dsp/te_fully_connected_s8 + its shared function per form) on the emulated
 * STM32F405, against the reference interpreter: seeded random layers with input lengths from 1 to 700 (whole groups
 * of 4 and 1 to 3 inputs past them), odd and even output channel counts (blocks of 4 and rows left over), batches,
 * per-tensor and per-channel weights, fused activations, and output scales putting the requantization in each of
 * its forms. One image runs them all; every output is compared bit for bit. Layers of one form must share one
 * function, and the kernel needs no arena scratch.
 */
import { describe, expect, it } from 'vitest';
import { generateLibrary } from '../../src/codegen/index.js';
import type { KernelCall } from '../../src/codegen/kernel-call.js';
import { lowerForDsp } from '../../src/codegen/lower/dsp/index.js';
import { formKey, type FullyConnectedForm } from '../../src/codegen/lower/dsp/fully-connected.js';
import type { Clamp, Graph, Node } from '../../src/ir/types.js';
import { runReference } from '../../src/reference/interpreter.js';
import { mergeLayers, quant, tensor, type Layer } from './support/layers.js';
import { Random } from './support/random.js';
import { strictArmBuilds } from './support/arm-build.js';
import { runOnEmulator } from './support/semihost.js';
import { differingLayers } from './support/compare.js';

const LAYERS = 64;
/** Depths worth having for sure (tails of 1, 2, 3; a single input; AD's 640), the rest drawn from 1..700. */
const EDGE_DEPTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 33, 127, 128, 129, 254, 640, 697, 698, 699, 700];

function clampFor(random: Random, zeroPoint: number): Clamp {
  const kind = random.int(0, 3);
  if (kind === 0) return { min: Math.max(-128, zeroPoint), max: 127 }; // ReLU
  if (kind === 1) return { min: Math.max(-128, zeroPoint), max: Math.min(127, zeroPoint + random.int(20, 120)) }; // ReLU6-like
  return { min: -128, max: 127 };
}

/**
 * Output scale for `depth` products: mostly a multiplier well below 0.5 (the fast requantization), sometimes at
 * least 0.5 or tiny (shift >= 0 or a rounding term beyond 32 bits: the exact form).
 */
function outputScale(random: Random, product: number, depth: number): number {
  const pick = random.int(0, 9);
  if (pick === 0) return Math.fround(product / (0.5 + random.next() * 1.5));
  if (pick === 1) return Math.fround(product * 2 ** random.int(26, 29));
  return Math.fround(product * Math.sqrt(depth) * 100 * 2 ** (random.next() * 2 - 1));
}

function randomFullyConnected(seed: number, id: string): Layer {
  const random = new Random(seed);
  const n = (s: string) => `${id}_${s}`;
  const depth = random.bool(0.4) ? random.pick(EDGE_DEPTHS) : random.int(1, 700);
  // Output channels: odd and even, below and above one block of 4; flash bounds depth * channels.
  const outC = Math.max(1, Math.min(random.pick([1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 16, 17, 31, 32, 64, 65]), Math.floor(6000 / depth)));
  const batches = random.pick([1, 1, 1, 2, 3]);
  const inputScale = Math.fround(0.05 * 2 ** (random.next() * 4 - 2));
  const inputZero = random.int(-128, 127);
  const input = tensor(n('x'), random.bool() ? [batches, depth] : [batches, 1, 1, depth], 'int8', quant(inputScale, inputZero));
  const perChannel = random.bool(0.5);
  const scale = () => Math.fround(0.01 * 2 ** (random.next() * 4 - 2));
  const scales = perChannel ? Array.from({ length: outC }, scale) : [scale()];
  const weights = tensor(n('w'), [outC, depth], 'int8', quant(scales, scales.map(() => 0), 0), random.int8Array(outC * depth, -127, 127));
  // Small biases, large ones, and now and then ones near 2^30 (pruned channels): the 'wide' requantization.
  const biasSize = random.pick([3000, 3000, 3000, 2_000_000, 1_500_000_000]);
  const bias = tensor(n('b'), [outC], 'int32', quant(inputScale * scales[0]!, 0), Int32Array.from({ length: outC }, () => random.int(-biasSize, biasSize)));
  const outputZero = random.int(-128, 127);
  const output = tensor(n('y'), [batches, outC], 'int8', quant(outputScale(random, inputScale * scales[0]!, depth), outputZero));
  const node: Node = {
    op: 'FullyConnected',
    name: n('fc'),
    inputs: [input.name, weights.name, random.bool(0.85) ? bias.name : ''],
    outputs: [output.name],
    attrs: { clamp: clampFor(random, outputZero), keepNumDims: false },
  };
  return {
    nodes: [node],
    tensors: [input, weights, bias, output],
    inputs: new Map([[input.name, random.int8Array(batches * depth)]]),
    outputs: [output.name],
    describe: `FullyConnected [${batches},${depth}] x [${outC},${depth}]`,
  };
}

function layers(count: number, firstSeed: number, prefix: string): { layer: Layer; seed: number }[] {
  return Array.from({ length: count }, (_, i) => ({ layer: randomFullyConnected(firstSeed + i, `${prefix}${i}`), seed: firstSeed + i }));
}

/**
 * The dense DSP kernel's calls. A layer of a single input usually goes to the sparse kernel instead (one entry per
 * row beats a zero-padded group of 4): it is checked against the reference all the same.
 */
function denseCalls(graph: Graph): KernelCall[] {
  return graph.nodes.map((node) => {
    const call = lowerForDsp(graph, node) as KernelCall | null;
    if (!call) throw new Error(`${node.name}: no DSP kernel`);
    return call;
  }).filter((call) => call.template === 'dsp/te_fully_connected_s8');
}

function formsOf(graph: Graph): FullyConnectedForm[] {
  return denseCalls(graph).map((call) => call.params.form as FullyConnectedForm);
}

/** Definitions of shared fully connected functions in the generated C, by name. */
function sharedDefinitions(source: string): string[] {
  return [...source.matchAll(/^TE_NOINLINE static void (te_fc_s8_dsp_\w+)\(/gm)].map((m) => m[1]!);
}

describe('DSP fully connected kernel on the emulated STM32F405 vs the reference interpreter', () => {
  const list = layers(LAYERS, 1, 'f');
  const { graph, inputs } = mergeLayers('simd_fc', list.map((e) => e.layer));

  it('the random layers cover every form and shape that matters', () => {
    const forms = formsOf(graph);
    const seen = new Set<string>();
    for (const form of forms) {
      seen.add(`${form.requantization}${form.perChannel ? ' per channel' : ''}`);
      seen.add(`tail ${form.tailBytes}`);
      seen.add(form.rowTail ? 'rows left over' : 'whole blocks of rows');
      if (form.clamp) seen.add('clamp');
    }
    expect(forms.length).toBeGreaterThan(LAYERS - 5);
    denseCalls(graph).forEach((call) => {
      const p = call.params as { batches: number; outC: number; fullWords: number };
      if (p.batches > 1) seen.add('batches');
      if (p.outC < 4) seen.add('rows left over only');
      if (p.fullWords === 0) seen.add('no whole group');
      if (p.fullWords % 4 !== 0 && p.fullWords > 4) seen.add('unrolled groups and single groups');
    });
    const expected = [
      'fast', 'fast per channel', 'wide', 'exact', 'exact per channel', 'tail 0', 'tail 1', 'tail 2', 'tail 3',
      'rows left over', 'whole blocks of rows', 'clamp', 'batches', 'rows left over only', 'no whole group', 'unrolled groups and single groups',
    ];
    expect(expected.filter((v) => !seen.has(v))).toEqual([]);
  });

  it(`${LAYERS} random layers in one image, bit for bit, one function per form and no scratch`, async () => {
    const expected = runReference(graph, inputs).outputs;
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' });
    const kernels = new Set(['te_fully_connected_s8_dsp', 'te_fully_connected_sparse_s8_dsp']);
    expect(library.layers.filter((l) => !kernels.has(l.kernel!)).map((l) => `${l.name}: ${l.kernel}`)).toEqual([]);
    expect(library.layers.filter((l) => l.scratchBytes > 0).map((l) => l.name)).toEqual([]);
    const source = [...library.files].find(([name]) => name === `tinyedge_${library.prefix}.c`)![1];
    const keys = new Set(formsOf(graph).map(formKey));
    expect(sharedDefinitions(source).sort()).toEqual([...keys].sort());
    expect(keys.size).toBeLessThan(LAYERS);
    const { outputs } = await runOnEmulator(graph, library, inputs);
    expect(differingLayers(list, outputs, expected)).toEqual([]);
  });
});

describe('the DSP fully connected kernels compile warning-free', () => {
  it('every form of the random layers: -std=c99 -pedantic -Wall -Wextra -Werror for Cortex-M4 and M55', async () => {
    const { graph } = mergeLayers('simd_fc_cc', layers(LAYERS, 1, 'f').map((e) => e.layer));
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' });
    for (const build of await strictArmBuilds(library, ['cortex-m4', 'cortex-m55'])) expect(build.exitCode, `${build.cpu}: ${build.messages}`).toBe(0);
  });
});

describe('DSP fully connected layers of one form share one function', () => {
  it('three layers of different shapes, one form: one shared function called by three thin layer functions', () => {
    // Same requantization form (per-tensor, full int8 range), depths with no tail, channel counts in whole blocks.
    const shaped = (id: string, depth: number, outC: number): Layer => {
      const input = tensor(`${id}_x`, [1, depth], 'int8', quant(0.05, -3));
      const weights = tensor(`${id}_w`, [outC, depth], 'int8', quant(0.01, 0), new Random(depth * outC).int8Array(outC * depth, -127, 127));
      const output = tensor(`${id}_y`, [1, outC], 'int8', quant(Math.fround(0.0005 * Math.sqrt(depth) * 100), 5));
      const node: Node = { op: 'FullyConnected', name: `${id}_fc`, inputs: [input.name, weights.name, ''], outputs: [output.name], attrs: { clamp: { min: -128, max: 127 }, keepNumDims: false } };
      return { nodes: [node], tensors: [input, weights, output], inputs: new Map([[input.name, new Int8Array(depth)]]), outputs: [output.name], describe: `${depth}->${outC}` };
    };
    const { graph } = mergeLayers('simd_fc_share', [shaped('a', 640, 128), shaped('b', 128, 8), shaped('c', 8, 128)]);
    const forms = formsOf(graph);
    expect(new Set(forms.map(formKey)).size).toBe(1);
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' });
    const source = [...library.files].find(([name]) => name === `tinyedge_${library.prefix}.c`)![1];
    const key = formKey(forms[0]!);
    expect(sharedDefinitions(source)).toEqual([key]);
    for (const layer of library.layers) {
      const body = source.slice(source.indexOf(`static void ${layer.function}(`));
      expect(body.slice(0, body.indexOf('\n}')), layer.name).toContain(`${key}(input, output, 1, `);
    }
  });
});
