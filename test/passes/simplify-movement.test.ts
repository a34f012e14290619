import { describe, expect, it } from 'vitest';
import { simplifyMovement } from '../../src/passes/simplify-movement.js';
import { checkedPass, opsOf } from './support/check.js';
import { IrBuilder } from './support/ir-builder.js';

describe('simplify-movement', () => {
  it('removes a Transpose followed by its inverse (the ONNX NHWC -> NCHW -> NHWC round trip)', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 5, 6, 3]);
    const c = b.conv(x, 4);
    const nchw = b.transpose(c, [0, 3, 1, 2]);
    const back = b.transpose(nchw, [0, 2, 3, 1]);
    b.output(b.conv(back, 2));
    const { graph, changes } = checkedPass(simplifyMovement, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D', 'Conv2D']);
    expect(changes[0]).toMatch(/together they move no element/);
  });

  it('collapses a Reshape chain into one Reshape', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 4, 4, 6]);
    const r = b.reshape(b.reshape(b.reshape(b.conv(x, 6), [1, 16, 6]), [16, 6]), [1, 96]);
    b.output(b.fullyConnected(r, 5));
    const { graph } = checkedPass(simplifyMovement, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D', 'Reshape', 'FullyConnected']);
    expect(graph.nodes[1]!.op === 'Reshape' && graph.nodes[1]!.attrs.shape).toEqual([1, 96]);
  });

  it('turns a Transpose that only moves size-1 axes into a Reshape', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 1, 6, 4]);
    b.output(b.conv(b.transpose(b.conv(x, 4), [0, 2, 1, 3]), 3));
    const { graph, changes } = checkedPass(simplifyMovement, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D', 'Reshape', 'Conv2D']);
    expect(changes[0]).toMatch(/by one Reshape/);
  });

  it('merges consecutive Transposes into one', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 3, 4, 2]);
    b.output(b.transpose(b.transpose(b.conv(x, 2), [0, 3, 1, 2]), [0, 1, 3, 2]));
    const { graph, changes } = checkedPass(simplifyMovement, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D', 'Transpose']);
    expect(graph.nodes[1]!.op === 'Transpose' && graph.nodes[1]!.attrs.perm).toEqual([0, 3, 2, 1]);
    expect(changes).toHaveLength(1);
  });

  it('collapses a whole chain whose transposes only move size-1 axes', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 1, 6, 4]);
    const t = b.transpose(b.transpose(b.transpose(b.conv(x, 4), [1, 0, 2, 3]), [0, 2, 1, 3]), [0, 1, 3, 2]);
    b.output(t);
    const { graph } = checkedPass(simplifyMovement, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D', 'Reshape']);
  });

  it('removes a Reshape to the same shape, moving a graph output to its input', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 3, 3, 2]);
    const c = b.conv(x, 2);
    b.output(b.reshape(c, [1, 3, 3, 2]), 'y');
    const { graph } = checkedPass(simplifyMovement, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D']);
    expect(graph.outputs).toEqual([{ tensor: c, externalDtype: 'int8', name: 'y' }]);
  });

  it('leaves a real transpose and a Reshape of a graph input that is also an output alone', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 3, 4, 2]);
    b.output(b.transpose(b.conv(x, 2), [0, 3, 1, 2]));
    b.output(b.reshape(x, [1, 3, 4, 2]));
    const { changes } = checkedPass(simplifyMovement, b.build());
    expect(changes).toEqual([]);
  });
});
