/**
 * The DSP average pool (dsp/te_avg_pool_s8 + its shared function per form) on the emulated STM32F405, against the
 * reference interpreter: seeded random pools, global (the window is the whole image) and windowed (strided, padded,
 * windows cut by the image's edges), channel counts below 4, in whole groups of 4 and with tails, batches, clamps.
 * One image runs them all, every output compared bit for bit; pools of one form share one function.
 */
import { describe, expect, it } from 'vitest';
import { generateLibrary } from '../../src/codegen/index.js';
import type { KernelCall } from '../../src/codegen/kernel-call.js';
import { lowerForDsp } from '../../src/codegen/lower/dsp/index.js';
import { averagePoolFormKey, type AveragePoolForm } from '../../src/codegen/lower/dsp/pool.js';
import type { Clamp, Graph, Node } from '../../src/ir/types.js';
import { runReference } from '../../src/reference/interpreter.js';
import { mergeLayers, quant, tensor, type Layer } from './support/layers.js';
import { Random } from './support/random.js';
import { strictArmBuilds } from './support/arm-build.js';
import { poolWindow } from './support/simd-layers.js';
import { runOnEmulator } from './support/semihost.js';
import { differingLayers } from './support/compare.js';

const POOLS = 48;

function clampFor(random: Random, zeroPoint: number): Clamp {
  const kind = random.int(0, 3);
  if (kind === 0) return { min: Math.max(-128, zeroPoint), max: 127 };
  if (kind === 1) return { min: Math.max(-128, zeroPoint), max: Math.min(127, zeroPoint + random.int(20, 120)) };
  return { min: -128, max: 127 };
}

function randomAveragePool(seed: number, id: string): Layer {
  const random = new Random(seed);
  const n = (s: string) => `${id}_${s}`;
  for (;;) {
    const channels = random.pick([1, 2, 3, 4, 5, 7, 8, 12, 13, 16, 17, 64, 66]);
    const batches = random.pick([1, 1, 1, 2]);
    const global = random.bool(0.5);
    // Global pools up to 15 x 15 = 225 taps (the lanes hold 255); windowed ones on smaller images.
    const inH = random.int(1, global ? 15 : 10);
    const inW = random.int(1, global ? 15 : 10);
    const window = poolWindow(random, inH, inW, global);
    if (!window) continue;
    const { filter, stride, padding, outH, outW } = window;
    const zeroPoint = random.int(-128, 127);
    const scale = Math.fround(0.05 * 2 ** (random.next() * 4 - 2));
    const input = tensor(n('x'), [batches, inH, inW, channels], 'int8', quant(scale, zeroPoint));
    const output = tensor(n('y'), [batches, outH, outW, channels], 'int8', quant(scale, zeroPoint));
    const node: Node = { op: 'AveragePool2D', name: n('pool'), inputs: [input.name], outputs: [output.name], attrs: { filter, stride, padding, clamp: clampFor(random, zeroPoint) } };
    return {
      nodes: [node],
      tensors: [input, output],
      inputs: new Map([[input.name, random.int8Array(batches * inH * inW * channels)]]),
      outputs: [output.name],
      describe: `AveragePool2D ${filter} s${stride} p${Object.values(padding)} [${batches},${inH},${inW},${channels}]`,
    };
  }
}

function formsOf(graph: Graph): AveragePoolForm[] {
  return graph.nodes.map((node) => {
    const call = lowerForDsp(graph, node) as KernelCall | null;
    if (!call || call.template !== 'dsp/te_avg_pool_s8') throw new Error(`${node.name}: not lowered to the DSP average pool`);
    return call.params.form as AveragePoolForm;
  });
}

describe('DSP average pool on the emulated STM32F405 vs the reference interpreter', () => {
  const list = Array.from({ length: POOLS }, (_, i) => ({ layer: randomAveragePool(100 + i, `p${i}`), seed: 100 + i }));
  const { graph, inputs } = mergeLayers('simd_pool', list.map((e) => e.layer));

  it('the random pools cover every form', () => {
    const keys = new Set(formsOf(graph).map(averagePoolFormKey));
    const expected: AveragePoolForm[] = [];
    for (const global of [true, false]) for (const [groups, tail] of [[true, false], [true, true], [false, true]] as const) expected.push({ global, groups, tail });
    expect(expected.map(averagePoolFormKey).filter((key) => !keys.has(key))).toEqual([]);
  });

  it(`${POOLS} random pools in one image, bit for bit, one function per form`, async () => {
    const expected = runReference(graph, inputs).outputs;
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' });
    expect(library.layers.filter((l) => l.kernel !== 'te_avg_pool_s8_dsp').map((l) => `${l.name}: ${l.kernel}`)).toEqual([]);
    const source = [...library.files].find(([name]) => name === `tinyedge_${library.prefix}.c`)![1];
    const defined = [...source.matchAll(/^TE_NOINLINE static void (te_avg_pool_s8_dsp_\w+)\(/gm)].map((m) => m[1]!);
    expect(defined.sort()).toEqual([...new Set(formsOf(graph).map(averagePoolFormKey))].sort());
    const { outputs } = await runOnEmulator(graph, library, inputs);
    expect(differingLayers(list, outputs, expected)).toEqual([]);
  });

  it('every form compiles warning-free: -std=c99 -pedantic -Wall -Wextra -Werror for Cortex-M4 and M55', async () => {
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' });
    for (const build of await strictArmBuilds(library, ['cortex-m4', 'cortex-m55'])) expect(build.exitCode, `${build.cpu}: ${build.messages}`).toBe(0);
  });
});
