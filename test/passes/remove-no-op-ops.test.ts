import { describe, expect, it } from 'vitest';
import { removeNoOpOps } from '../../src/passes/remove-no-op-ops.js';
import { checkedPass, opsOf } from './support/check.js';
import { IrBuilder, q } from './support/ir-builder.js';

describe('remove-no-op-ops', () => {
  it('removes an int8 -> int8 Quantize between identical parameters with the full clamp', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 4, 4, 3]);
    const c = b.conv(x, 4, { quant: q(0.07, 5) });
    const r = b.quantize(c, q(0.07, 5));
    b.output(b.conv(r, 2));
    const { graph, changes } = checkedPass(removeNoOpOps, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D', 'Conv2D']);
    expect(changes[0]).toMatch(/removed Quantize .*maps every int8 value to itself/);
  });

  it('removes a Relu on a tensor whose zero point is -128 (its table is the identity)', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 4, 4, 3]);
    const c = b.conv(x, 4, { quant: q(0.07, -128) });
    b.output(b.conv(b.unary('Relu', c), 2));
    const { graph } = checkedPass(removeNoOpOps, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D', 'Conv2D']);
  });

  it('keeps a Quantize that clamps, one that rescales, and a Relu that clamps', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 4, 4, 3]);
    const c = b.conv(x, 4, { quant: q(0.07, 5) });
    const clamping = b.quantize(c, q(0.07, 5), { min: 5, max: 127 });
    const rescaling = b.quantize(clamping, q(0.05, 5));
    b.output(b.unary('Relu', rescaling));
    const { graph, changes } = checkedPass(removeNoOpOps, b.build());
    expect(changes).toEqual([]);
    expect(opsOf(graph)).toEqual(['Conv2D', 'Quantize', 'Quantize', 'Relu']);
  });

  it('removes a Pad of zeros and a single-input Concat', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 4, 4, 3]);
    const c = b.conv(x, 4);
    const padded = b.pad(c, [0, 0, 0, 0], [0, 0, 0, 0]);
    const joined = b.concat([padded], 3);
    b.output(b.conv(joined, 2));
    const { graph, changes } = checkedPass(removeNoOpOps, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D', 'Conv2D']);
    expect(changes).toHaveLength(2);
  });

  it('moves a graph output to the no-op input, but not onto a graph input', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 4, 4, 3]);
    const passThrough = b.quantize(x, b.quantOf(x));
    const c = b.conv(x, 4);
    const last = b.quantize(c, b.quantOf(c));
    b.output(passThrough, 'first');
    b.output(last, 'second');
    const { graph } = checkedPass(removeNoOpOps, b.build());
    expect(opsOf(graph)).toEqual(['Quantize', 'Conv2D']);
    expect(graph.outputs.map((io) => [io.name, io.tensor])).toEqual([
      ['first', passThrough],
      ['second', c],
    ]);
  });
});
