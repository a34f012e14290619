import { describe, expect, it } from 'vitest';
import { findInPlaceConcats } from '../../src/passes/concat-in-place.js';
import { analyzeSparsity } from '../../src/passes/sparsity.js';
import { fingerprint } from './support/check.js';
import { IrBuilder, q } from './support/ir-builder.js';

describe('sparsity analysis', () => {
  it('counts zero weights per layer, all-zero output channels, and totals over distinct weight tensors', () => {
    const b = new IrBuilder('sparse', 31);
    const x = b.input('x', [1, 4, 4, 4]);
    // 8 filters of 4 weights: filter 0 all zero, filter 1 half zero, the rest without zeros.
    const weights = Int8Array.from({ length: 32 }, (_, i) => (i < 4 || i === 4 || i === 6 ? 0 : 1 + (i % 7)));
    const c = b.conv(x, 8, { name: 'pointwise', weights });
    const dwWeights = Int8Array.from({ length: 9 * 8 }, (_, i) => (i % 8 === 3 ? 0 : 5));
    const d = b.depthwise(c, { name: 'dw', weights: dwWeights });
    b.output(b.fullyConnected(d, 2, { name: 'fc', weights: new Int8Array(2 * 32).fill(7) }));
    const graph = b.build();
    const before = fingerprint(graph);
    const report = analyzeSparsity(graph);
    expect(fingerprint(graph)).toBe(before);
    expect(report.layers).toEqual([
      { node: 'pointwise', op: 'Conv2D', weights: 'pointwise_w', elements: 32, zeros: 6, sparsity: 6 / 32, channels: 8, zeroChannels: 1 },
      { node: 'dw', op: 'DepthwiseConv2D', weights: 'dw_w', elements: 72, zeros: 9, sparsity: 9 / 72, channels: 8, zeroChannels: 1 },
      { node: 'fc', op: 'FullyConnected', weights: 'fc_w', elements: 64, zeros: 0, sparsity: 0, channels: 2, zeroChannels: 0 },
    ]);
    expect(report.elements).toBe(168);
    expect(report.zeros).toBe(15);
  });

  it('counts a weight equal to its channel zero point (ONNX weights) as zero', () => {
    const b = new IrBuilder('zero_points', 32);
    const x = b.input('x', [1, 2]);
    b.output(b.fullyConnected(x, 2, { name: 'fc', weights: Int8Array.from([3, 3, 0, -5]) }));
    const graph = b.build();
    graph.tensors.set('fc_w', { ...graph.tensors.get('fc_w')!, quant: q([0.01, 0.02], [3, -5]) });
    expect(analyzeSparsity(graph).layers[0]).toMatchObject({ zeros: 3, zeroChannels: 1 });
  });
});

describe('in-place concat analysis', () => {
  it('lists channel concats of single-reader, same-quantization results, and no other', () => {
    const b = new IrBuilder('concats', 33);
    const x = b.input('x', [1, 4, 4, 3]);
    const quant = q(0.05, -10);
    const a = b.conv(x, 4, { quant });
    const n = b.unary('Neg', a, quant);
    b.output(b.concat([a, n], 3, quant, 'shares_a'));
    const c1 = b.conv(x, 4, { quant });
    const c2 = b.conv(x, 2, { quant });
    b.output(b.concat([c1, c2], 3, quant, 'channel_concat'));
    const r1 = b.conv(x, 4, { quant: q(0.07, 0) });
    const r2 = b.conv(x, 4, { quant });
    b.output(b.concat([r1, r2], -1, quant, 'requantizes'));
    const s1 = b.conv(x, 2, { quant });
    const s2 = b.conv(x, 2, { quant });
    b.output(b.concat([s1, s2], 1, quant, 'height_blocks'));
    const w1 = b.conv(x, 2, { quant });
    const w2 = b.conv(x, 2, { quant });
    b.output(b.concat([w1, w2], 2, quant, 'width_strided'));
    const f1 = b.reshape(b.conv(x, 2, { quant }), [1, 32]);
    const f2 = b.reshape(b.conv(x, 2, { quant }), [1, 32]);
    b.output(b.concat([f1, f2], 1, quant, 'flat_blocks'));
    b.output(b.concat([x, b.conv(x, 3, { quant: b.quantOf(x) })], 3, b.quantOf(x), 'graph_input'));
    expect([...findInPlaceConcats(b.build())]).toEqual(['channel_concat', 'height_blocks', 'flat_blocks']);
  });
});
