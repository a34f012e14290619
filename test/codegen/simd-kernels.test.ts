/**
 * The DSP-extension kernels (ISA 'dsp') on the emulated STM32F405, against the reference interpreter: batches of
 * seeded random layers shaped for these kernels (block tails, channel tails, padding runs, fast and exact
 * requantization, residual Adds fused into convolutions), each batch compiled into ONE image with the semihosting
 * harness (test/codegen/support/semihost.ts) and run once in QEMU, every output compared bit for bit.
 */
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { architectureFlags } from '../../src/build/firmware-flags.js';
import { generateLibrary, libraryFileNames } from '../../src/codegen/index.js';
import type { KernelCall } from '../../src/codegen/kernel-call.js';
import { lowerForDsp } from '../../src/codegen/lower/dsp/index.js';
import { fuseResidualAdds } from '../../src/codegen/lower/fuse-residual-add.js';
import { dspConv2DApplies } from '../../src/codegen/lower/dsp/conv2d.js';
import type { Graph, Node, TensorData } from '../../src/ir/types.js';
import { runReference } from '../../src/reference/interpreter.js';
import { loadTarget } from '../../src/targets/index.js';
import { mergeLayers, type Layer } from './support/layers.js';
import { runOnEmulator } from './support/semihost.js';
import { randomSimdLayer, type SimdLayerKind } from './support/simd-layers.js';

interface Entry {
  layer: Layer;
  seed: number;
  kind: SimdLayerKind;
}

const BATCHES: { name: string; kinds: [SimdLayerKind, number][]; firstSeed: number }[] = [
  { name: 'convolutions', kinds: [['conv', 30], ['pointwise', 16]], firstSeed: 1 },
  { name: 'depthwise', kinds: [['depthwise', 40]], firstSeed: 1 },
  { name: 'residual', kinds: [['residual', 24], ['add', 12]], firstSeed: 1 },
  { name: 'fully_connected_pool', kinds: [['fully-connected', 24], ['average-pool', 20]], firstSeed: 1 },
  { name: 'sparse', kinds: [['sparse', 30], ['sparse-conv', 16]], firstSeed: 1 },
];

function entries(kinds: [SimdLayerKind, number][], firstSeed: number, prefix = 'l'): Entry[] {
  const list: Entry[] = [];
  kinds.forEach(([kind, count], k) => {
    for (let i = 0; i < count; i++) {
      const seed = firstSeed + k * 1000 + i;
      list.push({ layer: randomSimdLayer(kind, seed, `${prefix}${list.length}`), seed, kind });
    }
  });
  return list;
}

function firstDifference(actual: TensorData, expected: TensorData): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) return `element ${i}: device ${actual[i]}, reference ${expected[i]}`;
  return null;
}

/** What the DSP lowering decided for every node that has a DSP kernel, as names of the variants exercised. */
function variantsOf(graph: Graph): Set<string> {
  const seen = new Set<string>();
  const fused = fuseResidualAdds(graph, (conv) => dspConv2DApplies(graph, conv));
  for (const [, residual] of fused.residuals) seen.add(`residual ${residual.add.op} fused, convolution as input ${residual.convPort}`);
  graph.nodes.forEach((node, index) => {
    const residual = fused.residuals.get(index);
    if (residual && fused.graph.nodes.some((n, i) => i < index && n.op === 'Conv2D' && n.outputs[0] === residual.residual)) seen.add('residual from an earlier convolution');
    const call = lowerForDsp(graph, node) as KernelCall | null;
    if (!call) return;
    const p = call.params as Record<string, unknown> & { stage?: { fast: boolean; wide: boolean; perChannel: boolean; fullRange: boolean } };
    const op = node.op;
    if (p.stage) {
      seen.add(`${op} ${p.stage.fast ? 'fast' : p.stage.wide ? 'wide' : 'exact'} requantization${p.stage.perChannel ? ' per channel' : ''}`);
      if (!p.stage.fullRange) seen.add(`${op} clamp`);
      const requant = call.constants.find((c) => c.role === 'requant');
      if (p.stage.fast && (requant ? Array.from(requant.values).some((v, i) => i % 3 === 0 && v === 0) : (p.stage as { multiplier?: number }).multiplier === 0)) {
        seen.add(`${op} constant output channel`);
      }
    }
    if (call.template === 'dsp/te_conv2d_s8') {
      const rows = p.rows as { alwaysInside: boolean; segments: { alwaysInside: boolean; single: boolean; tailBytes: number }[] }[];
      if ((p.tailPixels as number) > 0) seen.add('Conv2D pixel tail');
      if ((p.outC as number) % 2 === 1) seen.add('Conv2D odd output channel');
      if (rows.some((r) => !r.alwaysInside)) seen.add('Conv2D padding rows');
      if (rows.some((r) => r.segments.some((s) => !s.alwaysInside && !s.single))) seen.add('Conv2D partly padded run');
      if (rows.some((r) => r.segments.some((s) => s.single && r.segments.length > 1))) seen.add('Conv2D dilated taps');
      if (rows.some((r) => r.segments.some((s) => s.tailBytes > 0))) seen.add('Conv2D run tail bytes');
      if ((p.batches as number) > 1) seen.add('Conv2D batches');
      if ((p.remainder as unknown[]).length > 0) seen.add('Conv2D group remainder');
      if ((p.kGroups as number) >= 8 && (p.remainder as unknown[]).length === 0) seen.add('Conv2D whole unrolled groups');
    }
    if (op === 'DepthwiseConv2D') {
      if (p.interior && p.border) seen.add('DepthwiseConv2D interior and border');
      if (!p.interior) seen.add('DepthwiseConv2D border only');
      if (!p.border) seen.add('DepthwiseConv2D interior only');
      if ((p.tailChannels as number) > 0) seen.add('DepthwiseConv2D channel tail');
      if ((p.groups as number) === 0) seen.add('DepthwiseConv2D tail channels only');
      if ((p.kH as number) !== (p.kW as number)) seen.add('DepthwiseConv2D k x 1 / 1 x k');
    }
    if (call.template === 'dsp/te_fully_connected_s8') {
      if (p.rest) seen.add('FullyConnected row tail');
      if ((p.tailBytes as number) > 0) seen.add('FullyConnected depth tail');
      if ((p.batches as number) > 1) seen.add('FullyConnected batches');
      if ((p.remainder as unknown[]).length > 0) seen.add('FullyConnected group remainder');
    }
    if (op === 'AveragePool2D' && (p.tailChannels as number) > 0) seen.add('AveragePool2D channel tail');
    if (call.template === 'dsp/te_conv2d_sparse_s8') {
      seen.add(`${op} sparse`);
      if ((p.tailPixels as number) > 0) seen.add('sparse pixel tail');
      if (call.constants.some((c) => c.role === 'deltas' && Array.from(c.values).includes(255))) seen.add('sparse zero-run bridge');
    }
    if (call.template === 'dsp/te_conv2d_sparse_kxk_s8') {
      seen.add('Conv2D sparse k x k');
      if ((p.tailPixels as number) > 0) seen.add('sparse k x k pixel tail');
      if ((p.padTop as number) > 0 || (p.padLeft as number) > 0) seen.add('sparse k x k padding');
      if ((p.dilationW as number) > 1) seen.add('sparse k x k dilated');
    }
  });
  return seen;
}

describe('DSP kernels on the emulated STM32F405 vs the reference interpreter, random layers', () => {
  it('the random batches cover every variant that matters', () => {
    const seen = new Set<string>();
    for (const batch of BATCHES) {
      const { graph } = mergeLayers(batch.name, entries(batch.kinds, batch.firstSeed).map((e) => e.layer));
      for (const variant of variantsOf(graph)) seen.add(variant);
    }
    const expected = [
      'Conv2D fast requantization per channel', 'Conv2D fast requantization', 'Conv2D exact requantization per channel', 'Conv2D clamp',
      'Conv2D pixel tail', 'Conv2D odd output channel', 'Conv2D padding rows', 'Conv2D partly padded run', 'Conv2D dilated taps',
      'Conv2D run tail bytes', 'Conv2D batches', 'Conv2D group remainder', 'Conv2D whole unrolled groups',
      'DepthwiseConv2D fast requantization per channel', 'DepthwiseConv2D fast requantization', 'DepthwiseConv2D exact requantization per channel',
      'DepthwiseConv2D interior and border', 'DepthwiseConv2D border only', 'DepthwiseConv2D interior only', 'DepthwiseConv2D channel tail',
      'DepthwiseConv2D tail channels only', 'DepthwiseConv2D k x 1 / 1 x k',
      'FullyConnected fast requantization per channel', 'FullyConnected fast requantization', 'FullyConnected exact requantization',
      'FullyConnected row tail', 'FullyConnected depth tail', 'FullyConnected batches', 'FullyConnected group remainder',
      'Add fast requantization', 'Sub fast requantization', 'AveragePool2D channel tail',
      'residual Add fused, convolution as input 0', 'residual Add fused, convolution as input 1', 'residual Sub fused, convolution as input 0',
      'residual from an earlier convolution',
      'Conv2D wide requantization per channel', 'DepthwiseConv2D wide requantization per channel', 'FullyConnected wide requantization',
      'Conv2D constant output channel', 'DepthwiseConv2D constant output channel', 'FullyConnected constant output channel',
      'Conv2D sparse', 'FullyConnected sparse', 'sparse pixel tail', 'sparse zero-run bridge',
      'Conv2D sparse k x k', 'sparse k x k pixel tail', 'sparse k x k padding', 'sparse k x k dilated',
    ];
    expect(expected.filter((v) => !seen.has(v))).toEqual([]);
  });

  for (const batch of BATCHES) {
    const count = batch.kinds.reduce((sum, [, n]) => sum + n, 0);
    it(`${batch.name}: ${count} layers in one image, bit for bit`, async () => {
      const list = entries(batch.kinds, batch.firstSeed);
      const { graph, inputs } = mergeLayers(`simd_${batch.name}`, list.map((e) => e.layer));
      const expected = runReference(graph, inputs).outputs;
      const library = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' });
      // Every layer of these batches has a DSP kernel: none may have fallen back to the portable one unnoticed.
      const portable = library.layers.filter((l) => l.kernel !== null && !l.kernel.endsWith('_dsp'));
      expect(portable.map((l) => `${l.name}: ${l.kernel}`)).toEqual([]);
      const { outputs } = await runOnEmulator(graph, library, inputs);
      const failures: string[] = [];
      list.forEach((entry, i) => {
        const difference = firstDifference(outputs[i]!, expected[i]!);
        if (difference) failures.push(`${entry.kind} seed ${entry.seed} (${entry.layer.describe}): ${difference}`);
      });
      expect(failures).toEqual([]);
    });
  }
});

/**
 * Two copies of a random layer (same seed: same shapes, weights and quantization; different tensors) concatenated
 * along channels, then a 1x1 MaxPool that returns the concatenation unchanged, so that the concatenation lives in the
 * arena: the code generation then has each copy write its output pixels 2C apart into its channel slice (at an odd
 * offset when C is odd) instead of copying.
 */
function concatenatedLayer(kind: SimdLayerKind, seed: number, id: string): Layer {
  const copies = [randomSimdLayer(kind, seed, `${id}a`), randomSimdLayer(kind, seed, `${id}b`)];
  const tensors = copies.flatMap((c) => c.tensors);
  const part = tensors.find((t) => t.name === copies[0]!.outputs[0])!;
  const shape = [...part.shape.slice(0, -1), 2 * part.shape[part.shape.length - 1]!];
  const concat = { name: `${id}_cat`, shape, dtype: part.dtype, quant: part.quant! };
  const pooled = { ...concat, name: `${id}_out` };
  const nodes: Node[] = [
    ...copies.flatMap((c) => c.nodes),
    { op: 'Concat', name: `${id}_concat`, inputs: copies.map((c) => c.outputs[0]!), outputs: [concat.name], attrs: { axis: 3 } },
    {
      op: 'MaxPool2D',
      name: `${id}_pool`,
      inputs: [concat.name],
      outputs: [pooled.name],
      attrs: { filter: [1, 1], stride: [1, 1], padding: { top: 0, bottom: 0, left: 0, right: 0 }, clamp: { min: -128, max: 127 } },
    },
  ];
  return {
    nodes,
    tensors: [...tensors, concat, pooled],
    inputs: new Map(copies.flatMap((c) => [...c.inputs])),
    outputs: [pooled.name],
    describe: `2 x ${copies[0]!.describe}, concatenated`,
  };
}

describe('DSP kernels writing a channel slice of a concatenation (output pixel stride), on the emulated STM32F405', () => {
  const kinds: [SimdLayerKind, number][] = [['conv', 10], ['pointwise', 10], ['depthwise', 14], ['residual', 8], ['sparse-conv', 6]];
  it(`${kinds.reduce((sum, [, n]) => sum + n, 0)} concatenations of DSP-kernel outputs in place, bit for bit`, async () => {
    const list: { layer: Layer; seed: number; kind: SimdLayerKind }[] = [];
    kinds.forEach(([kind, count], k) => {
      for (let i = 0; i < count; i++) {
        const seed = 500 + k * 1000 + i;
        list.push({ layer: concatenatedLayer(kind, seed, `c${list.length}`), seed, kind });
      }
    });
    const { graph, inputs } = mergeLayers('simd_strided', list.map((e) => e.layer));
    const expected = runReference(graph, inputs).outputs;
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' });
    // In place unless that grows the arena: a layer so small that the whole concatenation reserved during the first
    // copy's scratch outweighs the copy saved (here one tiny pointwise layer) keeps its copy, by the planner's rule.
    const copied = new Set(library.layers.filter((l) => l.op === 'Concat' && l.kernel !== null).map((l) => l.name));
    for (const [kind] of kinds) {
      const ofKind = list.map((e, i) => ({ ...e, i })).filter((e) => e.kind === kind);
      expect(ofKind.filter((e) => copied.has(`c${e.i}_concat`)).length, `${kind}: concatenations copied`).toBeLessThanOrEqual(1);
    }
    const producers = library.layers.filter((l) => l.op === 'Conv2D' || l.op === 'DepthwiseConv2D' || (l.op === 'Add' && l.kernel !== null));
    expect(producers.filter((l) => !l.kernel!.endsWith('_dsp')).map((l) => `${l.name}: ${l.kernel}`)).toEqual([]);
    const { outputs } = await runOnEmulator(graph, library, inputs);
    const failures: string[] = [];
    list.forEach((entry, i) => {
      const difference = firstDifference(outputs[i]!, expected[i]!);
      if (difference) failures.push(`${entry.kind} seed ${entry.seed} (${entry.layer.describe}): ${difference}`);
    });
    expect(failures).toEqual([]);
  });
});

describe('the DSP kernels compile warning-free for every core with the extension', () => {
  it('-std=c99 -pedantic -Wall -Wextra -Werror for Cortex-M4, M7, M33 and M55', async () => {
    const layers = BATCHES.flatMap((batch, b) => entries(batch.kinds.map(([kind]) => [kind, 3] as [SimdLayerKind, number]), batch.firstSeed, `b${b}_`).map((e) => e.layer));
    const { graph } = mergeLayers('simd_all_kernels', layers);
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' });
    const dir = await mkdtemp(path.join(tmpdir(), 'tinyedge-simd-cc-'));
    try {
      for (const [name, content] of library.files) await writeFile(path.join(dir, name), content);
      const names = libraryFileNames(library.prefix);
      for (const targetName of ['qemu-cortex-m4', 'qemu-cortex-m7', 'nucleo-h743zi2']) {
        const flags = architectureFlags(loadTarget(targetName));
        const result = await execa('arm-none-eabi-gcc', [...flags, '-std=c99', '-pedantic', '-Wall', '-Wextra', '-Werror', '-O2', '-c', names.model], { cwd: dir, reject: false, all: true, env: { LC_ALL: 'C' } });
        expect(result.exitCode, `${targetName}: ${result.all}`).toBe(0);
      }
      for (const cpu of ['cortex-m33', 'cortex-m55']) {
        const result = await execa('arm-none-eabi-gcc', [`-mcpu=${cpu}`, '-mthumb', '-std=c99', '-pedantic', '-Wall', '-Wextra', '-Werror', '-O2', '-c', names.model], { cwd: dir, reject: false, all: true, env: { LC_ALL: 'C' } });
        expect(result.exitCode, `${cpu}: ${result.all}`).toBe(0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
