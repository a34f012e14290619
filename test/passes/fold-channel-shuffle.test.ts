import { describe, expect, it } from 'vitest';
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

  it('keeps the shuffle between grouped convolutions (ShuffleNet v1): no reordering of weights expresses it', () => {
    const b = new IrBuilder('shufflenet_v1_unit', 15);
    const x = b.input('x', [1, 4, 4, 12]);
    const grouped = b.conv(x, 12, { groups: 3 });
    const d = b.depthwise(shuffle(b, grouped, 3), { padding: samePadding(1) });
    b.output(b.conv(d, 12, { groups: 3 }));
    const { graph, changes } = checkedPass(foldChannelShuffle, b.build());
    expect(changes).toEqual([]);
    expect(opsOf(graph)).toContain('Transpose');
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
