import { describe, expect, it } from 'vitest';
import type { Conv2DNode, Node } from '../../src/ir/types.js';
import { foldChannelShuffle } from '../../src/passes/fold-channel-shuffle.js';
import { checkedPass, opsOf } from './support/check.js';
import { IrBuilder, q, samePadding } from './support/ir-builder.js';

/** ShuffleNet's channel shuffle in NHWC: [N,H,W,C] -> [N,H,W,g,C/g] -> swap the two -> [N,H,W,C]. */
function shuffle(b: IrBuilder, x: string, groups: number): string {
  const [n, h, w, c] = b.shapeOf(x) as [number, number, number, number];
  const split = b.reshape(x, [n, h, w, groups, c / groups]);
  const swapped = b.transpose(split, [0, 1, 2, 4, 3]);
  return b.reshape(swapped, [n, h, w, c]);
}

const MOVEMENT = new Set(['Reshape', 'Transpose']);

describe('fold-channel-shuffle', () => {
  it('folds the shuffle into the producing Conv2D output channels (weights, bias, per-channel scales)', () => {
    const b = new IrBuilder('shuffle_producer', 11);
    const x = b.input('x', [1, 6, 6, 8]);
    const produced = b.conv(x, 12, { name: 'producer', clamp: { min: -10, max: 127 } });
    const shuffled = shuffle(b, produced, 3);
    b.output(b.conv(b.depthwise(shuffled, { padding: samePadding(1) }), 5));
    const { graph, changes } = checkedPass(foldChannelShuffle, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D', 'DepthwiseConv2D', 'Conv2D']);
    expect(changes[0]).toMatch(/into the weights producing its input/);
    // The producer's channel c is the old channel P[c]: for g = 3, C = 12, P = [0, 4, 8, 1, 5, 9, ...].
    const scales = graph.tensors.get(graph.nodes[0]!.inputs[1]!)!.quant!.scale;
    const before = b.tensors.get('producer_w')!.quant!.scale;
    expect(scales.slice(0, 4)).toEqual([before[0], before[4], before[8], before[1]]);
  });

  it('folds into the readers when the producer output has another reader: through a depthwise into a Conv2D', () => {
    const b = new IrBuilder('shuffle_readers', 12);
    const x = b.input('x', [1, 5, 5, 6]);
    const produced = b.conv(x, 6);
    b.output(produced, 'unshuffled');
    const d = b.depthwise(shuffle(b, produced, 2), { padding: samePadding(1), name: 'dw' });
    b.output(b.conv(b.unary('Relu', d, q(0.05, -10)), 4), 'y');
    const { graph, changes } = checkedPass(foldChannelShuffle, b.build());
    expect(opsOf(graph).filter((op) => MOVEMENT.has(op))).toEqual([]);
    expect(changes[0]).toMatch(/into the weights reading its output/);
  });

  it('folds into a FullyConnected behind pooling and a flattening Reshape', () => {
    const b = new IrBuilder('shuffle_fc', 13);
    const x = b.input('x', [1, 4, 4, 8]);
    const produced = b.conv(x, 8);
    const pooled = b.pool('AveragePool2D', shuffle(b, produced, 4), [4, 4]);
    b.output(b.fullyConnected(b.reshape(pooled, [1, 8]), 3), 'y');
    b.output(b.fullyConnected(produced, 2), 'second_reader');
    const { graph } = checkedPass(foldChannelShuffle, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D', 'AveragePool2D', 'Reshape', 'FullyConnected', 'FullyConnected']);
  });

  it('folds into a spatial FullyConnected reading [N,H,W,C] rows', () => {
    const b = new IrBuilder('shuffle_spatial_fc', 14);
    const x = b.input('x', [1, 3, 3, 4]);
    const produced = b.conv(x, 4);
    b.output(b.fullyConnected(shuffle(b, produced, 2), 5), 'y');
    b.output(b.conv(produced, 2), 'other');
    const { graph } = checkedPass(foldChannelShuffle, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D', 'FullyConnected', 'Conv2D']);
  });

  it('carries the permutation through an Add of a per-channel constant, in both directions', () => {
    const b = new IrBuilder('shuffle_constant_add', 17);
    const x = b.input('x', [1, 4, 4, 6]);
    const channelBias = b.tensor('channel_bias', [1, 1, 1, 6], 'int8', q(0.02, 1), Int8Array.from([-90, -30, 0, 25, 70, 120]));
    const shifted = b.binary('Add', b.conv(x, 6), channelBias, q(0.06, -3), undefined, 'add_up');
    b.output(b.conv(shuffle(b, shifted, 3), 4), 'into_producer');
    const produced = b.conv(x, 6);
    b.output(produced, 'second_reader');
    const down = b.binary('Mul', shuffle(b, produced, 2), b.tensor('channel_scale', [6], 'int8', q(0.01, 0), Int8Array.from([5, 50, 100, -20, 7, 127])), q(0.03, 4));
    b.output(b.fullyConnected(down, 3), 'into_readers');
    const { graph, changes } = checkedPass(foldChannelShuffle, b.build());
    expect(opsOf(graph).filter((op) => MOVEMENT.has(op))).toEqual([]);
    expect(changes).toHaveLength(2);
  });

  it('folds the shuffle between grouped convolutions (ShuffleNet v1) into the first one\'s store order', () => {
    const b = new IrBuilder('shufflenet_v1_unit', 15);
    const x = b.input('x', [1, 4, 4, 12]);
    const grouped = b.conv(x, 12, { groups: 3, name: 'gconv1', clamp: { min: -10, max: 127 } });
    const d = b.depthwise(shuffle(b, grouped, 3), { padding: samePadding(1), name: 'dw' });
    b.output(b.conv(d, 12, { groups: 3, name: 'gconv2' }));
    const before = b.build();
    const { graph, changes } = checkedPass(foldChannelShuffle, before);
    expect(opsOf(graph)).toEqual(['Conv2D', 'DepthwiseConv2D', 'Conv2D']);
    expect(changes[0]).toMatch(/into the store order of the grouped convolution producing its input/);
    const [first, , second] = graph.nodes as [Conv2DNode, Node, Conv2DNode];
    // Filter o = 4g + t (group g of 3, t of 4) is stored at channel 3t + g: each group's results 3 channels apart.
    expect(first.attrs.outputPositions).toEqual([0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]);
    // Nothing else changed: same weights (by value), the depthwise and the second grouped convolution untouched.
    expect(graph.tensors.get(first.inputs[1]!)!.data).toEqual(before.tensors.get('gconv1_w')!.data);
    expect(second.attrs.outputPositions).toBeUndefined();
  });

  it('a permutation that keeps every filter in its group reorders the grouped weights instead', () => {
    const b = new IrBuilder('grouped_within', 18);
    const x = b.input('x', [1, 3, 3, 8]);
    const grouped = b.conv(x, 8, { groups: 2, name: 'gconv' });
    // [.., 2, 2, 2] with the last two axes swapped: channel 4a + 2b + d takes 4a + 2d + b, inside block a.
    const [n, h, w] = b.shapeOf(grouped) as [number, number, number];
    const swapped = b.reshape(b.transpose(b.reshape(grouped, [n, h, w, 2, 2, 2]), [0, 1, 2, 3, 5, 4]), [n, h, w, 8]);
    b.output(b.conv(b.depthwise(swapped, { padding: samePadding(1) }), 4, { groups: 2 }));
    const before = b.build();
    const { graph, changes } = checkedPass(foldChannelShuffle, before);
    expect(opsOf(graph)).toEqual(['Conv2D', 'DepthwiseConv2D', 'Conv2D']);
    expect(changes[0]).toMatch(/into the weights producing its input/);
    const conv = graph.nodes[0] as Conv2DNode;
    expect(conv.attrs.outputPositions).toBeUndefined();
    const scales = graph.tensors.get(conv.inputs[1]!)!.quant!.scale;
    const old = before.tensors.get('gconv_w')!.quant!.scale;
    expect(scales).toEqual([0, 2, 1, 3, 4, 6, 5, 7].map((c) => old[c]));
  });

  it('a store order that is not a channel stride per group: the positions as they are (code generation uses a table)', () => {
    const b = new IrBuilder('grouped_table', 19);
    const x = b.input('x', [1, 3, 3, 8]);
    // 4 groups of 2 filters, then a shuffle of 2 groups: filter o goes to 2 * (o mod 4) + floor(o / 4), which is not
    // g * step + t * step' for groups g of 2 filters t.
    const grouped = b.conv(x, 8, { groups: 4, name: 'gconv' });
    const once = b.depthwise(shuffle(b, grouped, 2), { padding: samePadding(1), name: 'dw' });
    b.output(b.conv(once, 8, { groups: 4 }));
    const { graph } = checkedPass(foldChannelShuffle, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D', 'DepthwiseConv2D', 'Conv2D']);
    expect((graph.nodes[0] as Conv2DNode).attrs.outputPositions).toEqual([0, 2, 4, 6, 1, 3, 5, 7]);
  });

  it('keeps the shuffle after a grouped convolution whose weights will be stored sparse', () => {
    const b = new IrBuilder('grouped_sparse', 20);
    const x = b.input('x', [1, 4, 4, 12]);
    const grouped = b.conv(x, 12, { groups: 3, name: 'gconv1' });
    const weights = b.tensors.get('gconv1_w')!;
    (weights.data as Int8Array).forEach((_, i, data) => void (i % 4 !== 0 && (data[i] = 0)));
    const d = b.depthwise(shuffle(b, grouped, 3), { padding: samePadding(1) });
    b.output(b.conv(d, 12, { groups: 3 }));
    const { changes } = checkedPass(foldChannelShuffle, b.build());
    expect(changes).toEqual([]);
  });

  it('keeps a shuffle whose result is a graph output or feeds an Add', () => {
    const b = new IrBuilder('shuffle_blocked', 16);
    const x = b.input('x', [1, 3, 3, 4]);
    b.output(shuffle(b, b.conv(x, 4), 2), 'shuffled');
    const produced = b.conv(x, 4);
    b.output(produced, 'side');
    b.output(b.binary('Add', shuffle(b, produced, 2), x), 'sum');
    const { changes } = checkedPass(foldChannelShuffle, b.build());
    expect(changes).toEqual([]);
  });
});
