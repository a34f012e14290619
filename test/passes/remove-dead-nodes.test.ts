import { describe, expect, it } from 'vitest';
import { removeDeadNodes } from '../../src/passes/remove-dead-nodes.js';
import { checkedPass, opsOf } from './support/check.js';
import { IrBuilder, q } from './support/ir-builder.js';

describe('remove-dead-nodes', () => {
  it('removes a branch whose result nobody reads, in one sweep', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 6, 6, 4]);
    const y = b.conv(x, 8, { name: 'kept' });
    const dead = b.conv(x, 3, { name: 'dead_conv' });
    b.unary('Relu', dead, q(0.05, -128), 'dead_relu');
    b.output(y);
    const { graph, changes } = checkedPass(removeDeadNodes, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D']);
    expect(changes).toHaveLength(2);
    expect([...graph.tensors.keys()].some((name) => name.startsWith('dead'))).toBe(false);
  });

  it('keeps nodes that write graph outputs even when nothing else reads them', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 4, 4, 2]);
    const a = b.conv(x, 2);
    const c = b.unary('Relu', a, q(0.05, -128));
    b.output(a);
    b.output(c);
    const { graph, changes } = checkedPass(removeDeadNodes, b.build());
    expect(changes).toEqual([]);
    expect(opsOf(graph)).toEqual(['Conv2D', 'Relu']);
  });
});
