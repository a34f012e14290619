/**
 * The DSP Conv2D kernel (templates/kernels/dsp/te_conv2d_s8*.c.hbs): layers of one form share one block function,
 * and the kernel runs in place where src/codegen/lower/dsp/conv2d.ts offers it. Seeded random layers and chains run
 * on the emulated STM32F405 (one image per batch), every output compared bit for bit with the reference interpreter.
 */
import { describe, expect, it } from 'vitest';
import { generateLibrary } from '../../src/codegen/index.js';
import type { KernelCall } from '../../src/codegen/kernel-call.js';
import { dspConv2DApplies, lowerConv2DDsp } from '../../src/codegen/lower/dsp/conv2d.js';
import { fuseResidualAdds } from '../../src/codegen/lower/fuse-residual-add.js';
import type { Conv2DNode, Graph, Node, Tensor } from '../../src/ir/types.js';
import { runReference } from '../../src/reference/interpreter.js';
import { mergeLayers, quant, tensor, type Layer } from './support/layers.js';
import { Random } from './support/random.js';
import { runOnEmulator } from './support/semihost.js';
import { randomSimdLayer, type SimdLayerKind } from './support/simd-layers.js';
import { firstDifference } from './support/compare.js';

/** The DSP convolution lowerings of a graph, fused residual Adds included, by node index. */
function convLowerings(graph: Graph): Map<number, KernelCall> {
  const fused = fuseResidualAdds(graph, (conv) => dspConv2DApplies(graph, conv));
  const calls = new Map<number, KernelCall>();
  graph.nodes.forEach((node, index) => {
    if (node.op === 'Conv2D' && dspConv2DApplies(graph, node)) calls.set(index, lowerConv2DDsp(graph, node, fused.residuals.get(index)));
  });
  return calls;
}

// ---- a chain of convolutions whose intermediate tensors live in the arena (so that in-place placement matters) ----

interface ChainStep {
  k: number;
  stride: number;
  pad: number;
  outC: number;
  /** Add the tensor this step's input was computed from (the block's input, ResNet style), fused into this step. */
  residual?: boolean;
  /** A ReLU clamp (true), none (false), or either (absent). */
  relu?: boolean;
  /**
   * One weight scale and a requantization multiplier in [0.5, 1) (shift 0): the exact per-tensor output stage, with
   * weights in [-2, 2] so that not every output saturates.
   */
  exactPerTensor?: boolean;
}

/** A conv node with symmetric per-channel int8 weights whose output scale keeps the accumulators in the int8 range. */
function chainConv(random: Random, name: string, input: Tensor, step: ChainStep): { node: Conv2DNode; tensors: Tensor[]; output: Tensor } {
  const [batches, inH, inW, inC] = input.shape as [number, number, number, number];
  const outH = Math.floor((inH + 2 * step.pad - step.k) / step.stride) + 1;
  const outW = Math.floor((inW + 2 * step.pad - step.k) / step.stride) + 1;
  const scales = Array.from({ length: step.exactPerTensor ? 1 : step.outC }, () => Math.fround(0.01 * 2 ** (random.next() * 2 - 1)));
  const patch = step.k * step.k * inC;
  const limit = step.exactPerTensor ? 2 : 127;
  const weights = tensor(`${name}_w`, [step.outC, step.k, step.k, inC], 'int8', quant(scales, scales.map(() => 0), 0), random.int8Array(step.outC * patch, -limit, limit));
  const inputScale = input.quant!.scale[0]!;
  const bias = tensor(`${name}_b`, [step.outC], 'int32', quant(inputScale * scales[0]!, 0), Int32Array.from({ length: step.outC }, () => random.int(-3000, 3000)));
  const outputZero = random.int(-20, 20);
  const outputScale = Math.fround(inputScale * scales[0]! * (step.exactPerTensor ? 1.5 : Math.sqrt(patch) * 60 * 2 ** (random.next() - 0.5)));
  const output = tensor(`${name}_y`, [batches, outH, outW, step.outC], 'int8', quant(outputScale, outputZero));
  const node: Conv2DNode = {
    op: 'Conv2D',
    name,
    inputs: [input.name, weights.name, bias.name],
    outputs: [output.name],
    attrs: {
      stride: [step.stride, step.stride],
      dilation: [1, 1],
      padding: { top: step.pad, bottom: step.pad, left: step.pad, right: step.pad },
      groups: 1,
      clamp: (step.relu ?? random.bool()) ? { min: outputZero, max: 127 } : { min: -128, max: 127 },
    },
  };
  return { node, tensors: [weights, bias, output], output };
}

/**
 * Graph input -> steps -> graph output: every tensor between two steps is an arena tensor that dies at the next step,
 * which is where the planner can place a step's output over its input (or over a residual that dies with it).
 */
function chainLayer(seed: number, id: string, inputShape: [number, number, number, number], steps: ChainStep[]): Layer {
  const random = new Random(seed);
  const input = tensor(`${id}_x`, inputShape, 'int8', quant(Math.fround(0.05), random.int(-30, 30)));
  const nodes: Node[] = [];
  const tensors: Tensor[] = [input];
  let current = input;
  let previous = input;
  steps.forEach((step, i) => {
    const conv = chainConv(random, `${id}_c${i}`, current, step);
    nodes.push(conv.node);
    tensors.push(...conv.tensors);
    let result = conv.output;
    if (step.residual) {
      const outScale = Math.fround(Math.max(conv.output.quant!.scale[0]!, previous.quant!.scale[0]!) * 1.5);
      const zero = random.int(-20, 20);
      const sum = tensor(`${id}_s${i}`, [...conv.output.shape], 'int8', quant(outScale, zero));
      nodes.push({ op: 'Add', name: `${id}_add${i}`, inputs: [previous.name, conv.output.name], outputs: [sum.name], attrs: { clamp: { min: -128, max: 127 } } });
      tensors.push(sum);
      result = sum;
    }
    previous = current;
    current = result;
  });
  return {
    nodes,
    tensors,
    inputs: new Map([[input.name, random.int8Array(inputShape.reduce((a, b) => a * b, 1))]]),
    outputs: [current.name],
    describe: `chain ${inputShape} ${steps.map((s) => `${s.k}x${s.k}s${s.stride}->${s.outC}${s.residual ? '+res' : ''}`).join(' ')}`,
  };
}

describe('DSP Conv2D: layers of one form share one function', () => {
  it('same-form layers of different shapes call one block function; the form, not the shape, makes the key', () => {
    // Three pointwise layers (64 -> 64, 64 -> 128, 128 -> 32) and a 3x3 one (32 -> 48): one requantization form, no
    // residual, groups of taps in multiples of 8 (16, 16, 32, 72: the same unroll).
    const layer = chainLayer(11, 'share', [1, 7, 5, 64], [
      { k: 1, stride: 1, pad: 0, outC: 64, relu: false },
      { k: 1, stride: 1, pad: 0, outC: 128, relu: false },
      { k: 1, stride: 1, pad: 0, outC: 32, relu: false },
      { k: 3, stride: 1, pad: 1, outC: 48, relu: false },
    ]);
    const { graph } = mergeLayers('simd_conv_share', [layer]);
    const calls = [...convLowerings(graph).values()];
    const keys = calls.map((c) => c.shared!.map((s) => s.key));
    const blockKeys = new Set(calls.map((c) => c.params['blockKey']));
    expect(blockKeys.size).toBe(1);
    // Pointwise layers widen where the pixels lie; the 3x3 one gathers.
    expect(keys.slice(0, 3).every((k) => k.includes('te_conv2d_s8_dsp_pointwise'))).toBe(true);
    expect(keys[3]).toContain('te_conv2d_s8_dsp_pixels');

    const library = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' });
    const model = [...library.files.entries()].find(([name]) => name.endsWith('.c') && !name.includes('weights'))![1];
    const key = [...blockKeys][0] as string;
    expect(model.match(new RegExp(`static void ${key}\\(`, 'g'))?.length).toBe(1);
    expect(model.match(/static void te_conv2d_s8_dsp_pointwise\(/g)?.length).toBe(1);
    expect(model.match(/static void te_conv2d_s8_dsp_pixels\(/g)?.length).toBe(1);
    // The per-layer part of a pointwise layer is its constant struct and a one-line wrapper: no gather, no block.
    expect(model).not.toMatch(/_l[0-2]_gather/);
    expect(model.match(new RegExp(`\\.block = ${key},`, 'g'))?.length).toBe(4);
  });

  it('a residual Add, another requantization form or an odd channel count make another form', () => {
    const list = Array.from({ length: 40 }, (_, i) => randomSimdLayer(i % 2 ? 'residual' : 'conv', 300 + i, `f${i}`));
    const { graph } = mergeLayers('simd_conv_forms', list);
    const calls = [...convLowerings(graph).values()];
    const byKey = new Map<string, KernelCall[]>();
    for (const call of calls) byKey.set(call.params['blockKey'] as string, [...(byKey.get(call.params['blockKey'] as string) ?? []), call]);
    for (const [key, group] of byKey) {
      const forms = new Set(group.map((c) => {
        const p = c.params as { stage: { fast: boolean; wide: boolean; perChannel: boolean; fullRange: boolean }; residual: false | object; outC: number; blockPixels: number };
        return JSON.stringify([p.stage.fast, p.stage.wide, p.stage.perChannel, p.stage.fullRange, p.residual !== false, p.outC % 2, p.blockPixels]);
      }));
      expect(forms.size, key).toBe(1);
    }
    // Several forms occur and at least one is shared by layers of different shapes.
    expect(byKey.size).toBeGreaterThan(3);
    expect([...byKey.values()].some((g) => new Set(g.map((c) => `${c.params['inC']}x${c.params['kH']}->${c.params['outC']}`)).size > 1)).toBe(true);
    // Rendering them all must not trip the "same key, different parameters" check.
    expect(() => generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' })).not.toThrow();
  });
});

describe('DSP Conv2D in-place offers', () => {
  const offers = (steps: ChainStep[], shape: [number, number, number, number] = [1, 5, 7, 16]) => {
    const { graph } = mergeLayers('offers', [chainLayer(5, 'o', shape, steps)]);
    return [...convLowerings(graph).values()].map((c) => c.inPlace ?? []);
  };

  it('pointwise: over the input, aligned at the start when the output is no larger, at the end when it is', () => {
    const [narrowing, widening, same] = offers([{ k: 1, stride: 1, pad: 0, outC: 8 }, { k: 1, stride: 1, pad: 0, outC: 24 }, { k: 1, stride: 1, pad: 0, outC: 24 }]);
    expect(narrowing).toEqual([expect.objectContaining({ input: 'o_x', align: 'start' })]);
    expect(widening).toEqual([expect.objectContaining({ input: 'o_c0_y', align: 'end' })]);
    expect(same).toEqual([expect.objectContaining({ input: 'o_c1_y', align: 'start' })]);
    for (const o of [...narrowing, ...widening]) expect(o.scratch?.bytes).toBeGreaterThan(0);
  });

  it('k x k or strided: none over the input; a fused residual: over the residual, aligned at the start', () => {
    const [kxk, strided] = offers([{ k: 3, stride: 1, pad: 1, outC: 16 }, { k: 1, stride: 2, pad: 0, outC: 16 }]);
    expect(kxk).toEqual([]);
    expect(strided).toEqual([]);
    const [, , residual] = offers([{ k: 3, stride: 1, pad: 1, outC: 16 }, { k: 3, stride: 1, pad: 1, outC: 16 }, { k: 3, stride: 1, pad: 1, outC: 16, residual: true }]);
    expect(residual).toEqual([expect.objectContaining({ input: 'o_c0_y', align: 'start' })]);
    // A pointwise layer with a residual offers both, each by its own argument.
    const [, , pointwiseResidual] = offers([{ k: 3, stride: 1, pad: 1, outC: 16 }, { k: 1, stride: 1, pad: 0, outC: 16 }, { k: 1, stride: 1, pad: 0, outC: 16, residual: true }]);
    expect(pointwiseResidual).toEqual([expect.objectContaining({ input: 'o_c1_y', align: 'start' }), expect.objectContaining({ input: 'o_c0_y', align: 'start' })]);
  });
});

/** Random layers for the block and tail variants: pointwise in < out and in > out, odd counts, pixel tails, residuals. */
const RANDOM_KINDS: [SimdLayerKind, number][] = [['pointwise', 24], ['conv', 16], ['residual', 16]];

/**
 * Chains whose intermediate tensors the planner may overlay, and the layers it must then place over an input (layer
 * name -> the input tensor; null: either of its two).
 */
const CHAINS: { shape: [number, number, number, number]; steps: ChainStep[]; inPlace: Record<string, string | null> }[] = [
  // 35 pixels (a tail of 2): pointwise 16 -> 8 -> 24 -> 24 -> 7; the arena's peak falls with 24 -> 24 over its input.
  { shape: [1, 5, 7, 16], steps: [{ k: 3, stride: 1, pad: 1, outC: 16 }, { k: 1, stride: 1, pad: 0, outC: 8 }, { k: 1, stride: 1, pad: 0, outC: 24 }, { k: 1, stride: 1, pad: 0, outC: 24 }, { k: 1, stride: 1, pad: 0, outC: 7 }, { k: 3, stride: 1, pad: 1, outC: 4 }], inPlace: { ch0_c3: 'ch0_c2_y' } },
  // 40 pixels (a tail of 1), odd channel counts both ways: 13 -> 21 (aligned at the end) -> 5 (at the start).
  { shape: [1, 8, 5, 13], steps: [{ k: 1, stride: 1, pad: 0, outC: 13 }, { k: 1, stride: 1, pad: 0, outC: 21 }, { k: 1, stride: 1, pad: 0, outC: 5 }, { k: 3, stride: 2, pad: 1, outC: 6 }], inPlace: { ch1_c1: 'ch1_c0_y', ch1_c2: 'ch1_c1_y' } },
  // ResNet blocks: a 3x3 and a pointwise convolution each add their block's input, the output written over it.
  { shape: [1, 8, 8, 8], steps: [{ k: 3, stride: 1, pad: 1, outC: 16 }, { k: 3, stride: 1, pad: 1, outC: 16 }, { k: 3, stride: 1, pad: 1, outC: 16, residual: true }, { k: 1, stride: 1, pad: 0, outC: 16 }, { k: 1, stride: 1, pad: 0, outC: 16, residual: true }, { k: 3, stride: 2, pad: 0, outC: 8 }], inPlace: { ch2_c2: 'ch2_c0_y', ch2_c4: null } },
  // 2 batches of 16 pixels (a tail of 2): pointwise pixels run across the batch boundary; 12 -> 20 aligned at the end.
  { shape: [2, 4, 4, 12], steps: [{ k: 1, stride: 1, pad: 0, outC: 12 }, { k: 1, stride: 1, pad: 0, outC: 20 }, { k: 1, stride: 1, pad: 0, outC: 9 }, { k: 3, stride: 1, pad: 0, outC: 4 }], inPlace: { ch3_c1: 'ch3_c0_y' } },
  // The exact per-tensor output stage (one multiplier and shift for every channel), pointwise, 3x3 and residual.
  { shape: [1, 6, 5, 12], steps: [{ k: 1, stride: 1, pad: 0, outC: 12, exactPerTensor: true }, { k: 3, stride: 1, pad: 1, outC: 9, exactPerTensor: true }, { k: 3, stride: 1, pad: 1, outC: 12, exactPerTensor: true, residual: true }, { k: 1, stride: 1, pad: 0, outC: 4 }], inPlace: {} },
];

describe('DSP Conv2D on the emulated STM32F405 vs the reference interpreter', () => {
  it(`${RANDOM_KINDS.reduce((s, [, n]) => s + n, 0)} random layers in one image, bit for bit`, async () => {
    const entries: { layer: Layer; what: string }[] = [];
    RANDOM_KINDS.forEach(([kind, count], k) => {
      for (let i = 0; i < count; i++) {
        const seed = 7000 + k * 1000 + i;
        entries.push({ layer: randomSimdLayer(kind, seed, `r${entries.length}`), what: `${kind} seed ${seed}` });
      }
    });
    const { graph, inputs } = mergeLayers('simd_conv', entries.map((e) => e.layer));

    // The batch covers what the shared functions must handle.
    const calls = [...convLowerings(graph).values()];
    const p = (c: KernelCall) => c.params as Record<string, number | boolean | object>;
    const covered = {
      pointwiseNarrowing: calls.some((c) => p(c)['pointwise'] === true && (p(c)['outC'] as number) < (p(c)['inC'] as number)),
      pointwiseWidening: calls.some((c) => p(c)['pointwise'] === true && (p(c)['outC'] as number) > (p(c)['inC'] as number)),
      oddOut: calls.some((c) => (p(c)['outC'] as number) % 2 === 1),
      oddIn: calls.some((c) => p(c)['pointwise'] === true && (p(c)['inC'] as number) % 4 !== 0),
      tailOf1: calls.some((c) => p(c)['tailPixels'] === 1),
      tailOf2: calls.some((c) => p(c)['tailPixels'] === 2),
      fewerPixelsThanABlock: calls.some((c) => (p(c)['pixels'] as number) < 3),
      residualPointwise: calls.some((c) => p(c)['residual'] !== false && p(c)['pointwise'] === true),
      residualKxK: calls.some((c) => p(c)['residual'] !== false && p(c)['pointwise'] === false),
      groupRemainder: calls.some((c) => (p(c)['remainder'] as unknown[]).length > 0),
      groupsInOnePass: calls.some((c) => (p(c)['kGroups'] as number) < 4),
      unrolledBy8: calls.some((c) => (p(c)['unroll'] as unknown[]).length === 8),
      exactPerChannel: calls.some((c) => !(p(c)['stage'] as { fast: boolean }).fast && !(p(c)['stage'] as { wide: boolean }).wide && (p(c)['stage'] as { perChannel: boolean }).perChannel),
      wide: calls.some((c) => (p(c)['stage'] as { wide: boolean }).wide),
      fastPerTensor: calls.some((c) => (p(c)['stage'] as { fast: boolean }).fast && !(p(c)['stage'] as { perChannel: boolean }).perChannel),
      clamp: calls.some((c) => !(p(c)['stage'] as { fullRange: boolean }).fullRange),
    };
    expect(Object.entries(covered).filter(([, yes]) => !yes).map(([what]) => what)).toEqual([]);

    const expected = runReference(graph, inputs).outputs;
    const library = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' });
    const portable = library.layers.filter((l) => l.op === 'Conv2D' && l.kernel !== null && !l.kernel.endsWith('_dsp'));
    expect(portable.map((l) => l.name)).toEqual([]);
    const { outputs } = await runOnEmulator(graph, library, inputs);
    const failures: string[] = [];
    entries.forEach((entry, i) => {
      const difference = firstDifference(outputs[i]!, expected[i]!);
      if (difference) failures.push(`${entry.what} (${entry.layer.describe}): ${difference}`);
    });
    expect(failures).toEqual([]);
  });

  // One image per chain: the planner takes an in-place offer only where it lowers that graph's arena.
  CHAINS.forEach((chain, i) => {
    it(`chain ${i}: ${Object.keys(chain.inPlace).join(', ') || 'nothing required'} in place, bit for bit`, async () => {
      const layer = chainLayer(900 + i, `ch${i}`, chain.shape, chain.steps);
      const { graph, inputs } = mergeLayers(`simd_conv_chain${i}`, [layer]);
      const expected = runReference(graph, inputs).outputs;
      const library = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp' });
      const over = new Map(library.layers.filter((l) => l.inPlaceOver !== undefined).map((l) => [l.name, l.inPlaceOver]));
      for (const [name, input] of Object.entries(chain.inPlace)) {
        expect(over.has(name), `${name} in place`).toBe(true);
        if (input !== null) expect(over.get(name), name).toBe(input);
      }
      const withoutInPlace = generateLibrary(graph, { modelHash: '0'.repeat(16), isa: 'dsp', inPlace: false });
      if (over.size > 0) expect(library.plan.arenaBytes).toBeLessThan(withoutInPlace.plan.arenaBytes);
      const stages = [...convLowerings(graph).values()].map((c) => c.params['stage'] as { fast: boolean; wide: boolean; perChannel: boolean });
      if (chain.steps.some((step) => step.exactPerTensor)) expect(stages.some((st) => !st.fast && !st.wide && !st.perChannel)).toBe(true);
      const { outputs } = await runOnEmulator(graph, library, inputs);
      expect(firstDifference(outputs[0]!, expected[0]!), layer.describe).toBeNull();
    });
  });
});
