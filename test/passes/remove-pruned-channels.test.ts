import { describe, expect, it } from 'vitest';
import { graphCost } from '../../src/ir/cost.js';
import { removePrunedChannels } from '../../src/passes/remove-pruned-channels.js';
import { checkedPass, opsOf } from './support/check.js';
import { IrBuilder, q, Random, samePadding } from './support/ir-builder.js';

/** OHWI / [Cout, ...] weights with the listed output channels all zero (structured pruning). */
function prunedWeights(random: Random, outputs: number, perChannel: number, pruned: Iterable<number>): Int8Array {
  const data = random.int8(outputs * perChannel, -127, 127);
  for (const c of pruned) data.fill(0, c * perChannel, (c + 1) * perChannel);
  return data;
}

/** Depthwise [1, kh, kw, C] weights with the listed channels all zero. */
function prunedDepthwise(random: Random, taps: number, channels: number, pruned: Iterable<number>): Int8Array {
  const data = random.int8(taps * channels, -127, 127);
  for (const c of pruned) for (let t = 0; t < taps; t++) data[t * channels + c] = 0;
  return data;
}

const evens = (count: number) => Array.from({ length: count / 2 }, (_, i) => 2 * i);

function biasWithZeros(random: Random, count: number, zeros: Iterable<number>): Int32Array {
  const bias = random.int32(count, -3000, 3000);
  for (const c of zeros) bias[c] = 0;
  return bias;
}

describe('remove-pruned-channels', () => {
  it('a 50%-structurally-pruned pointwise model loses half its MACs and keeps its outputs bit for bit', () => {
    const b = new IrBuilder('pruned_pointwise', 21);
    const x = b.input('x', [1, 8, 8, 16]);
    const pruned = evens(32);
    const expand = b.conv(x, 32, { name: 'expand', weights: prunedWeights(b.random, 32, 16, pruned), bias: biasWithZeros(b.random, 32, pruned), clamp: { min: -10, max: 127 }, quant: q(0.05, -10) });
    b.output(b.conv(expand, 16, { name: 'project' }));
    const graph = b.build();
    const { graph: after, summary } = checkedPass(removePrunedChannels, graph);

    expect(graphCost(graph).macs).toBe(8 * 8 * 32 * 16 + 8 * 8 * 16 * 32);
    expect(summary.macsBefore).toBe(graphCost(graph).macs);
    expect(summary.macsAfter).toBe(summary.macsBefore / 2);
    expect(graphCost(after).macs).toBe(summary.macsAfter);
    expect(summary.paramBytesAfter).toBeLessThan(summary.paramBytesBefore);
    expect(summary.removed).toEqual([{ producer: 'expand', tensor: expand, channels: pruned, channelsBefore: 32, through: [], absorbedBy: ['project'] }]);
    expect(after.tensors.get(expand)!.shape).toEqual([1, 8, 8, 16]);
  });

  it('passes pruned channels through a padded depthwise only when their value is the zero point', () => {
    const b = new IrBuilder('pruned_inverted_residual', 22);
    const x = b.input('x', [1, 6, 6, 8]);
    const pruned = [0, 3, 4, 6];
    // Zero bias: the channel is requantize(0) + Z = Z. Channel 6 gets a large bias, so its constant is not Z.
    const bias = biasWithZeros(b.random, 12, pruned);
    bias[6] = 40000;
    const expand = b.conv(x, 12, { name: 'expand', weights: prunedWeights(b.random, 12, 8, pruned), bias, clamp: { min: -20, max: 127 }, quant: q(0.05, -20) });
    const dw = b.depthwise(expand, { name: 'dw', padding: samePadding(1), quant: q(0.06, -30), clamp: { min: -30, max: 127 } });
    b.output(b.conv(dw, 8, { name: 'project' }));
    const { graph, summary } = checkedPass(removePrunedChannels, b.build());
    expect(summary.removed).toEqual([{ producer: 'expand', tensor: expand, channels: [0, 3, 4], channelsBefore: 12, through: ['dw'], absorbedBy: ['project'] }]);
    expect(graph.tensors.get(graph.nodes[1]!.inputs[1]!)!.shape).toEqual([1, 3, 3, 9]);
    expect(summary.macsAfter).toBe(36 * 9 * 8 + 36 * 9 * 9 + 36 * 8 * 9);
  });

  it('passes pruned depthwise filters and pooling into a FullyConnected, which absorbs any constant', () => {
    const b = new IrBuilder('pruned_head', 23);
    const x = b.input('x', [1, 4, 4, 6]);
    const conv = b.conv(x, 6, { name: 'conv', weights: prunedWeights(b.random, 6, 6, [1, 2]) });
    const dw = b.depthwise(conv, { name: 'dw', kernel: [3, 3], weights: prunedDepthwise(b.random, 9, 6, [5]), quant: q(0.004, -10) });
    const pooled = b.pool('AveragePool2D', dw, [2, 2], { name: 'pool' });
    const flat = b.reshape(pooled, [1, 6], 'flatten');
    b.output(b.fullyConnected(flat, 3, { name: 'fc', quant: q(0.0005, 0) }));
    const { graph, summary } = checkedPass(removePrunedChannels, b.build());
    expect(summary.removed.map((r) => [r.producer, r.channels, r.through, r.absorbedBy])).toEqual([['conv', [1, 2], ['dw', 'pool', 'flatten'], ['fc']]]);
    expect(graph.tensors.get(graph.nodes.find((n) => n.name === 'fc')!.inputs[1]!)!.shape).toEqual([3, 4]);
    expect(opsOf(graph)).toEqual(['Conv2D', 'DepthwiseConv2D', 'AveragePool2D', 'Reshape', 'FullyConnected']);
  });

  it('passes pruned channels through a Mul by a per-channel constant, which loses their entries', () => {
    const b = new IrBuilder('pruned_scaled', 27);
    const x = b.input('x', [1, 3, 3, 5]);
    const c = b.conv(x, 5, { name: 'conv', weights: prunedWeights(b.random, 5, 5, [1, 4]) });
    const scale = b.tensor('scale', [5], 'int8', q(0.02, 0), Int8Array.from([30, -60, 90, 127, -128]));
    const scaled = b.binary('Mul', c, scale, q(0.01, 5), undefined, 'mul');
    b.output(b.conv(scaled, 2, { name: 'project' }));
    const { graph, summary } = checkedPass(removePrunedChannels, b.build());
    expect(summary.removed.map((r) => [r.channels, r.through])).toEqual([[[1, 4], ['mul']]]);
    expect(Array.from(graph.tensors.get(graph.nodes[1]!.inputs[1]!)!.data as Int8Array)).toEqual([30, 90, 127]);
  });

  it('removes pruned FullyConnected rows absorbed by the next FullyConnected, keeping one channel when all are pruned', () => {
    const b = new IrBuilder('pruned_mlp', 24);
    const x = b.input('x', [1, 10]);
    const h1 = b.fullyConnected(x, 8, { name: 'fc1', weights: prunedWeights(b.random, 8, 10, [2, 5, 7]) });
    const h2 = b.fullyConnected(h1, 4, { name: 'fc2', weights: prunedWeights(b.random, 4, 8, [0, 1, 2, 3]) });
    b.output(b.fullyConnected(h2, 3, { name: 'fc3' }));
    const { summary } = checkedPass(removePrunedChannels, b.build());
    expect(summary.removed.map((r) => [r.producer, r.channels])).toEqual([
      ['fc1', [2, 5, 7]],
      ['fc2', [0, 1, 2]],
    ]);
  });

  it('a padded Conv2D absorbs only zero-point channels', () => {
    const b = new IrBuilder('pruned_padded', 25);
    const x = b.input('x', [1, 5, 5, 4]);
    const bias = biasWithZeros(b.random, 6, [0]);
    bias[1] = 25000;
    const c = b.conv(x, 6, { name: 'c1', weights: prunedWeights(b.random, 6, 4, [0, 1]), bias, quant: q(0.05, -1) });
    b.output(b.conv(c, 3, { name: 'c2', kernel: [3, 3], padding: samePadding(1) }));
    const { summary } = checkedPass(removePrunedChannels, b.build());
    expect(summary.removed.map((r) => r.channels)).toEqual([[0]]);
  });

  it('keeps pruned channels that reach an Add, a Concat or a graph output', () => {
    const b = new IrBuilder('pruned_blocked', 26);
    const x = b.input('x', [1, 4, 4, 4]);
    const a = b.conv(x, 4, { weights: prunedWeights(b.random, 4, 4, [1]) });
    b.output(b.binary('Add', a, x), 'sum');
    const c = b.conv(x, 4, { weights: prunedWeights(b.random, 4, 4, [2]) });
    b.output(b.concat([c, x], 3, q(0.05, -10)), 'joined');
    b.output(b.conv(x, 4, { weights: prunedWeights(b.random, 4, 4, [3]) }), 'direct');
    const { changes, summary } = checkedPass(removePrunedChannels, b.build());
    expect(changes).toEqual([]);
    expect(summary.macsAfter).toBe(summary.macsBefore);
  });
});
