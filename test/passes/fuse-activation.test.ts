import { describe, expect, it } from 'vitest';
import type { Clamp, Graph } from '../../src/ir/types.js';
import { fuseActivation, fusedClamp } from '../../src/passes/fuse-activation.js';
import { checkedPass, nodeNamed, opsOf } from './support/check.js';
import { IrBuilder, q } from './support/ir-builder.js';

const clampOf = (graph: Graph, name: string): Clamp => (nodeNamed(graph, name) as { attrs: { clamp: Clamp } }).attrs.clamp;

describe('fuse-activation', () => {
  it('folds a Relu with the producer output quantization into a Conv2D clamp', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 6, 6, 3]);
    const c = b.conv(x, 4, { name: 'conv', kernel: [3, 3], quant: q(0.03, -7) });
    const r = b.unary('Relu', c);
    b.output(r, 'y');
    const { graph, changes } = checkedPass(fuseActivation, b.build());
    expect(opsOf(graph)).toEqual(['Conv2D']);
    expect(clampOf(graph, 'conv')).toEqual({ min: -7, max: 127 });
    expect(graph.outputs[0]!.tensor).toBe(r);
    expect(changes[0]).toMatch(/fused Relu .* into Conv2D 'conv': clamp \[-7, 127\]/);
  });

  it('composes Relu6 with a clamp the producer already has', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 5, 5, 4]);
    const d = b.depthwise(x, { name: 'dw', quant: q(0.05, -20), clamp: { min: -30, max: 60 } });
    b.output(b.conv(b.unary('Relu6', d), 2));
    const { graph } = checkedPass(fuseActivation, b.build());
    expect(opsOf(graph)).toEqual(['DepthwiseConv2D', 'Conv2D']);
    // Relu6 in the producer's domain: [Z, Z + round(6 / 0.05)] = [-20, 100], within the existing [-30, 60].
    expect(clampOf(graph, 'dw')).toEqual({ min: -20, max: 60 });
  });

  it('folds a clamp-only Quantize after FullyConnected, Relu after Add and MaxPool2D', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 4, 4, 4]);
    const fc = b.fullyConnected(x, 6, { name: 'fc', quant: q(0.1, 3) });
    b.output(b.quantize(fc, q(0.1, 3), { min: 3, max: 90 }), 'fc_out');
    const c1 = b.conv(x, 4);
    const c2 = b.conv(x, 4);
    const sum = b.binary('Add', c1, c2, q(0.08, -5), undefined, 'add');
    const pooled = b.pool('MaxPool2D', b.unary('Relu', sum), [2, 2], { name: 'maxpool' });
    b.output(b.unary('Relu', pooled, q(0.08, -5)), 'pool_out');
    const { graph } = checkedPass(fuseActivation, b.build());
    expect(opsOf(graph)).toEqual(['FullyConnected', 'Conv2D', 'Conv2D', 'Add', 'MaxPool2D']);
    expect(clampOf(graph, 'fc')).toEqual({ min: 3, max: 90 });
    expect(clampOf(graph, 'add')).toEqual({ min: -5, max: 127 });
    expect(clampOf(graph, 'maxpool')).toEqual({ min: -5, max: 127 });
  });

  it('keeps an activation that rescales, one whose input has other readers, and a LeakyRelu', () => {
    const b = new IrBuilder();
    const x = b.input('x', [1, 4, 4, 3]);
    const c = b.conv(x, 4, { quant: q(0.05, 0) });
    b.output(b.unary('Relu', c, q(0.04, -128)), 'rescaled');
    const shared = b.conv(x, 4, { quant: q(0.05, 0) });
    b.output(b.unary('Relu', shared), 'relu');
    b.output(b.conv(shared, 2), 'other_reader');
    const d = b.conv(x, 4, { quant: q(0.05, 0) });
    b.output(b.add({ op: 'LeakyRelu', name: 'leaky', inputs: [d], attrs: { alpha: 0.1 } }, { quant: q(0.05, 0) }), 'leaky');
    const { changes } = checkedPass(fuseActivation, b.build());
    expect(changes).toEqual([]);
  });

  it('fusedClamp: the composition of the producer clamp and a clamping table, or null', () => {
    const identity = Int8Array.from({ length: 256 }, (_, i) => i - 128);
    const relu = identity.map((v) => Math.max(v, 10));
    expect(fusedClamp({ min: -128, max: 127 }, relu)).toEqual({ min: 10, max: 127 });
    expect(fusedClamp({ min: -128, max: 0 }, relu)).toEqual({ min: 10, max: 10 });
    expect(fusedClamp({ min: -128, max: 127 }, identity.map((v) => -v))).toBeNull();
  });
});
