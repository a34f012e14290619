import { describe, expect, it } from 'vitest';
import { NodeError } from '../../src/errors.js';
import { graphCost } from '../../src/ir/cost.js';
import type { Graph } from '../../src/ir/types.js';
import { optimizeGraph, PASSES } from '../../src/passes/index.js';
import { expectSameOutputs, fingerprint, opsOf } from './support/check.js';
import { everything } from './support/graphs.js';

describe('optimizeGraph', () => {
  it('runs every default pass in order, each logged, and keeps the outputs bit-identical', () => {
    const graph = everything();
    const before = fingerprint(graph);
    const result = optimizeGraph(graph);
    expect(fingerprint(graph)).toBe(before);
    expect(result.log.map((e) => e.pass)).toEqual(PASSES.map((p) => p.name).filter((name) => name !== 'fold-io-transposes'));
    // No single-channel depthwise layer, no movement before a fully connected layer, a chain: one execution order.
    expect(result.log.filter((e) => e.changes.length === 0).map((e) => e.pass)).toEqual(['depthwise-as-conv', 'fold-movement-into-fully-connected', 'schedule-for-memory']);
    expect(opsOf(result.graph)).toEqual(['Conv2D', 'DepthwiseConv2D', 'Conv2D']);
    expect(result.pruning!.macsAfter).toBeLessThan(result.pruning!.macsBefore);
    expect(graphCost(result.graph).macs).toBe(result.pruning!.macsAfter);
    expect(result.sparsity.layers.map((l) => l.node)).toEqual(['conv', 'dw', 'project']);
    expectSameOutputs(graph, result.graph);
  });

  it('`passes`, `skip` and `foldIoTransposes` choose what runs', () => {
    const graph = everything();
    expect(optimizeGraph(graph, { passes: ['fuse-activation', 'remove-dead-nodes'] }).log.map((e) => e.pass)).toEqual(['remove-dead-nodes', 'fuse-activation']);
    const skipped = optimizeGraph(graph, { skip: ['remove-pruned-channels'] });
    expect(skipped.log.map((e) => e.pass)).not.toContain('remove-pruned-channels');
    expect(skipped.pruning).toBeNull();
    expect(optimizeGraph(graph, { foldIoTransposes: true }).log.map((e) => e.pass)).toContain('fold-io-transposes');
  });

  it('leaves a graph with unsupported ops as it is (it cannot run), but still analyses it', () => {
    const graph = { ...everything(), unsupported: [{ node: 'mystery', op: 'Erf' }] };
    const result = optimizeGraph(graph);
    expect(result.graph).toBe(graph);
    expect(result.log).toEqual([]);
    expect(result.sparsity.layers.length).toBe(4);
  });

  it('an invalid input graph is a NodeError naming the node', () => {
    const graph = everything();
    const conv = graph.nodes.find((n) => n.name === 'conv')!;
    graph.nodes = graph.nodes.map((n) => (n === conv ? { ...conv, attrs: { ...conv.attrs, stride: [0, 1] } } : n)) as Graph['nodes'];
    expect(() => optimizeGraph(graph)).toThrow(NodeError);
    expect(() => optimizeGraph(graph)).toThrow(/node 'conv' \(Conv2D\)/);
  });
});
