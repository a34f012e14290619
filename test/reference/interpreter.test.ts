/** The interpreter's contract: input checks, errors naming the node or input, intermediates, multi-node graphs. */
import { describe, expect, it } from 'vitest';
import { InputError, NodeError } from '../../src/errors.js';
import type { Conv2DNode, Graph, ReshapeNode, UnaryNode } from '../../src/ir/types.js';
import { runReference } from '../../src/reference/interpreter.js';
import { noClamp, noPadding, q, singleNodeGraph, tensor } from './graph-builder.js';

function reluGraph(): Graph {
  const relu: UnaryNode = { name: 'relu_1', op: 'Relu', inputs: ['x'], outputs: ['h'], attrs: {} };
  const reshape: ReshapeNode = { name: 'flatten', op: 'Reshape', inputs: ['h'], outputs: ['y'], attrs: { shape: [4] } };
  const graph = singleNodeGraph(relu, [
    tensor('x', [1, 2, 2, 1], 'int8', q(0.1, -5)),
    tensor('h', [1, 2, 2, 1], 'int8', q(0.1, -5)),
    tensor('y', [4], 'int8', q(0.1, -5)),
  ]);
  graph.nodes.push(reshape);
  graph.outputs = [{ tensor: 'y', externalDtype: 'int8', name: 'y' }];
  return graph;
}

describe('runReference', () => {
  it('runs nodes in order and keeps intermediates on request', () => {
    const graph = reluGraph();
    const result = runReference(graph, [Int8Array.from([-9, -5, 0, 7])], { keepIntermediates: true });
    expect(Array.from(result.outputs[0]!)).toEqual([-5, -5, 0, 7]);
    expect([...result.intermediates!.keys()]).toEqual(['h', 'y']);
    expect(runReference(graph, [Int8Array.from([1, 2, 3, 4])]).intermediates).toBeUndefined();
  });

  it('names the input and the expected element count when the data does not fit', () => {
    const graph = reluGraph();
    expect(() => runReference(graph, [new Int8Array(3)])).toThrow(InputError);
    expect(() => runReference(graph, [new Int8Array(3)])).toThrow("input 'x' expects 4 elements (shape [1, 2, 2, 1]), got 3");
    expect(() => runReference(graph, [new Uint8Array(4)])).toThrow("input 'x' expects int8 data, got uint8");
    expect(() => runReference(graph, [])).toThrow(/takes 1 input/);
  });

  it('refuses graphs with unsupported ops, naming the node', () => {
    const graph = reluGraph();
    graph.unsupported.push({ node: 'lstm_3', op: 'UNIDIRECTIONAL_SEQUENCE_LSTM' });
    expect(() => runReference(graph, [new Int8Array(4)])).toThrow(NodeError);
    expect(() => runReference(graph, [new Int8Array(4)])).toThrow(/lstm_3/);
  });

  it('names the node whose quantization parameter is missing', () => {
    const node: Conv2DNode = {
      name: 'conv_without_scale',
      op: 'Conv2D',
      inputs: ['x', 'w', ''],
      outputs: ['y'],
      attrs: { stride: [1, 1], dilation: [1, 1], padding: noPadding, groups: 1, clamp: noClamp },
    };
    const graph = singleNodeGraph(node, [
      tensor('x', [1, 1, 1, 1], 'int8'),
      tensor('w', [1, 1, 1, 1], 'int8', q(1, 0), Int8Array.from([1])),
      tensor('y', [1, 1, 1, 1], 'int8', q(1, 0)),
    ]);
    expect(() => runReference(graph, [new Int8Array(1)])).toThrow(NodeError);
    expect(() => runReference(graph, [new Int8Array(1)])).toThrow(/node 'conv_without_scale' \(Conv2D\): input 'x' has no quantization/);
  });
});
