import { describe, expect, it } from 'vitest';
import type { Padding2D } from '../../src/ir/types.js';
import { foldPadIntoConv } from '../../src/passes/fold-pad-into-conv.js';
import { checkedPass, nodeNamed, opsOf } from './support/check.js';
import { IrBuilder, q, samePadding } from './support/ir-builder.js';

const paddingOf = (node: unknown): Padding2D => (node as { attrs: { padding: Padding2D } }).attrs.padding;

describe('fold-pad-into-conv', () => {
  it('folds a zero-point Pad into Conv2D (adding to its own padding) and into DepthwiseConv2D', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 7, 6, 3], q(0.04, 9));
    const padded = b.pad(x, [0, 1, 2, 0], [0, 0, 1, 0]);
    const c = b.conv(padded, 4, { name: 'conv', kernel: [3, 3], padding: samePadding(1), stride: [2, 1], quant: q(0.05, -3) });
    const d = b.depthwise(b.pad(c, [0, 2, 2, 0], [0, 2, 2, 0]), { name: 'dw', kernel: [5, 5], dilation: [1, 2] });
    b.output(d);
    const { graph, changes } = checkedPass(foldPadIntoConv, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D', 'DepthwiseConv2D']);
    expect(paddingOf(nodeNamed(graph, 'conv'))).toEqual({ top: 2, bottom: 1, left: 3, right: 2 });
    expect(paddingOf(nodeNamed(graph, 'dw'))).toEqual(samePadding(2));
    expect(changes).toHaveLength(2);
  });

  it('folds a -128 Pad into MaxPool2D while every window keeps a real tap', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 6, 6, 2], q(0.04, 9));
    b.output(b.pool('MaxPool2D', b.pad(x, [0, 1, 1, 0], [0, 1, 1, 0], -128), [3, 3], { stride: [2, 2], name: 'pool' }), 'folded');
    b.output(b.pool('MaxPool2D', b.pad(x, [0, 2, 0, 0], [0, 0, 0, 0], -128), [2, 2], { stride: [1, 1] }), 'whole_window_of_padding');
    const { graph } = checkedPass(foldPadIntoConv, b.build());
    expect(opsOf(graph)).toEqual(['MaxPool2D', 'Pad', 'MaxPool2D']);
    expect(paddingOf(nodeNamed(graph, 'pool'))).toEqual(samePadding(1));
  });

  it('keeps pads that change results: AveragePool2D, MaxPool2D with the zero point, another value, channel padding', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 5, 5, 2], q(0.04, 9));
    b.output(b.pool('AveragePool2D', b.pad(x, [0, 1, 1, 0], [0, 1, 1, 0]), [3, 3]), 'avg');
    b.output(b.pool('MaxPool2D', b.pad(x, [0, 1, 1, 0], [0, 1, 1, 0]), [3, 3]), 'max');
    b.output(b.conv(b.pad(x, [0, 1, 1, 0], [0, 1, 1, 0], 0), 3, { kernel: [3, 3] }), 'value');
    b.output(b.conv(b.pad(x, [0, 1, 1, 0], [0, 1, 1, 1]), 3, { kernel: [3, 3] }), 'channels');
    const { changes } = checkedPass(foldPadIntoConv, b.build());
    expect(changes).toEqual([]);
  });

  it('keeps a Pad whose result has other readers', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 5, 5, 2]);
    const padded = b.pad(x, [0, 1, 1, 0], [0, 1, 1, 0]);
    b.output(b.conv(padded, 3, { kernel: [3, 3] }));
    b.output(padded);
    const { changes } = checkedPass(foldPadIntoConv, b.build());
    expect(changes).toEqual([]);
  });
});
