/**
 * IR shape inference (src/ir/shapes.ts) and the IR checker (src/ir/validate.ts), on hand-written nodes and on
 * graphs imported from ONNX and then broken on purpose.
 */
import { describe, expect, test } from 'vitest';
import { NodeError } from '../../src/errors.js';
import { importOnnx } from '../../src/frontend/onnx/index.js';
import { inferShapes, outputShape, outputShapes } from '../../src/ir/shapes.js';
import type { Graph, Node } from '../../src/ir/types.js';
import { validateGraph } from '../../src/ir/validate.js';
import { OnnxGraphBuilder, seededIntegers } from '../support/onnx-builder.js';

const clamp = { min: -128, max: 127 };

describe('outputShape', () => {
  test('Conv2D: padding, stride and dilation', () => {
    const conv: Node = { op: 'Conv2D', name: 'c', inputs: ['x', 'w'], outputs: ['y'], attrs: { stride: [2, 1], dilation: [1, 2], padding: { top: 1, bottom: 2, left: 0, right: 0 }, groups: 1, clamp } };
    // H: floor((10 + 3 - 3) / 2) + 1 = 6; W: dilated kernel 5 -> floor((9 - 5) / 1) + 1 = 5.
    expect(outputShape(conv, [[1, 10, 9, 4], [8, 3, 3, 4]])).toEqual([1, 6, 5, 8]);
  });

  test('DepthwiseConv2D takes its channels from the last weight dimension', () => {
    const dw: Node = { op: 'DepthwiseConv2D', name: 'd', inputs: ['x', 'w'], outputs: ['y'], attrs: { stride: [1, 1], dilation: [1, 1], padding: { top: 1, bottom: 1, left: 1, right: 1 }, depthMultiplier: 2, clamp } };
    expect(outputShape(dw, [[1, 5, 5, 3], [1, 3, 3, 6]])).toEqual([1, 5, 5, 6]);
  });

  test('FullyConnected flattens to [batch, Cin] unless keepNumDims', () => {
    const fc = (keepNumDims: boolean): Node => ({ op: 'FullyConnected', name: 'f', inputs: ['x', 'w'], outputs: ['y'], attrs: { clamp, keepNumDims } });
    expect(outputShape(fc(false), [[1, 2, 2, 8], [10, 8]])).toEqual([4, 10]);
    expect(outputShape(fc(true), [[1, 3, 8], [10, 8]])).toEqual([1, 3, 10]);
    expect(() => outputShape(fc(false), [[1, 7], [10, 8]])).toThrow(NodeError);
  });

  test('BatchMatMul broadcasts batch dimensions; elementwise ops broadcast numpy-style', () => {
    const bmm: Node = { op: 'BatchMatMul', name: 'b', inputs: ['a', 'b'], outputs: ['y'], attrs: { clamp } };
    expect(outputShape(bmm, [[2, 1, 3, 4], [5, 4, 6]])).toEqual([2, 5, 3, 6]);
    expect(() => outputShape(bmm, [[3, 4], [5, 6]])).toThrow(/inner dimensions/);
    const add: Node = { op: 'Add', name: 'a', inputs: ['a', 'b'], outputs: ['y'], attrs: { clamp } };
    expect(outputShape(add, [[1, 4, 4, 8], [8]])).toEqual([1, 4, 4, 8]);
    expect(() => outputShape(add, [[1, 4, 4, 8], [3]])).toThrow(/do not broadcast/);
  });

  test('pools, Mean, Concat, Pad, Reshape with -1, Transpose', () => {
    const pool: Node = { op: 'AveragePool2D', name: 'p', inputs: ['x'], outputs: ['y'], attrs: { filter: [3, 3], stride: [2, 2], padding: { top: 1, bottom: 1, left: 1, right: 1 }, clamp } };
    expect(outputShape(pool, [[1, 9, 9, 3]])).toEqual([1, 5, 5, 3]);
    const mean = (keepDims: boolean): Node => ({ op: 'Mean', name: 'm', inputs: ['x'], outputs: ['y'], attrs: { axes: [1, 2], keepDims } });
    expect(outputShape(mean(true), [[1, 5, 5, 3]])).toEqual([1, 1, 1, 3]);
    expect(outputShape(mean(false), [[1, 5, 5, 3]])).toEqual([1, 3]);
    const concat: Node = { op: 'Concat', name: 'c', inputs: ['a', 'b'], outputs: ['y'], attrs: { axis: -1 } };
    expect(outputShape(concat, [[1, 2, 2, 3], [1, 2, 2, 5]])).toEqual([1, 2, 2, 8]);
    expect(() => outputShape(concat, [[1, 2, 2, 3], [1, 3, 2, 5]])).toThrow(/differ outside axis 3/);
    const pad: Node = { op: 'Pad', name: 'p', inputs: ['x'], outputs: ['y'], attrs: { before: [0, 1, 2, 0], after: [0, 1, 0, 0], value: 0 } };
    expect(outputShape(pad, [[1, 3, 3, 2]])).toEqual([1, 5, 5, 2]);
    const reshape: Node = { op: 'Reshape', name: 'r', inputs: ['x'], outputs: ['y'], attrs: { shape: [1, -1] } };
    expect(outputShape(reshape, [[1, 3, 3, 2]])).toEqual([1, 18]);
    const transpose: Node = { op: 'Transpose', name: 't', inputs: ['x'], outputs: ['y'], attrs: { perm: [0, 3, 1, 2] } };
    expect(outputShape(transpose, [[1, 3, 4, 2]])).toEqual([1, 2, 3, 4]);
    expect(() => outputShape({ ...transpose, attrs: { perm: [0, 1, 1, 2] } } as Node, [[1, 3, 4, 2]])).toThrow(/not a permutation/);
  });

  test('FloatOp: DynamicQuantizeLinear has three outputs, reductions drop or keep axes', () => {
    const dql: Node = { op: 'FloatOp', name: 'q', inputs: ['x'], outputs: ['y', 's', 'z'], attrs: { onnxOp: 'DynamicQuantizeLinear', params: {} } };
    expect(outputShapes(dql, [[3, 4]])).toEqual([[3, 4], [], []]);
    const reduce: Node = { op: 'FloatOp', name: 'r', inputs: ['x'], outputs: ['y'], attrs: { onnxOp: 'ReduceMin', params: { keepdims: 0 } } };
    expect(outputShape(reduce, [[3, 4]])).toEqual([]);
    const keep: Node = { op: 'FloatOp', name: 'r', inputs: ['x'], outputs: ['y'], attrs: { onnxOp: 'ReduceMax', params: { keepdims: 1, axes: [-1] } } };
    expect(outputShape(keep, [[3, 4]])).toEqual([3, 1]);
  });
});

/** A small QDQ conv net imported from ONNX: Q -> Conv -> Relu -> MaxPool -> Flatten -> Gemm -> DQ. */
function importedNet(): Graph {
  const b = new OnnxGraphBuilder('net', 13);
  b.input('x', 'float', [1, 2, 6, 6]);
  const x = b.dequantize(b.quantize('x', 0.02, 0), 0.02, 0);
  const w = b.quantizedInitializer('w', 'int8', [4, 2, 3, 3], seededIntegers(72, -127, 127, 1), [0.01, 0.02, 0.01, 0.03], [0, 0, 0, 0], 0);
  const bias = b.quantizedInitializer('bias', 'int32', [4], [10, -20, 30, -40], [0.0002, 0.0004, 0.0002, 0.0006].map(Math.fround), [0, 0, 0, 0], 0);
  b.node('Conv', [x, w, bias], ['conv'], { pads: [1, 1, 1, 1] }, { name: 'conv' });
  b.node('Relu', ['conv'], ['relu'], {}, { name: 'relu' });
  const r = b.dequantize(b.quantize('relu', 0.05, -128), 0.05, -128);
  b.node('MaxPool', [r], ['pool'], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool' });
  const p = b.dequantize(b.quantize('pool', 0.05, -128), 0.05, -128);
  b.node('Flatten', [p], ['flat'], {}, { name: 'flatten' });
  const f = b.dequantize(b.quantize('flat', 0.05, -128), 0.05, -128);
  const fw = b.quantizedInitializer('fc_w', 'int8', [3, 36], seededIntegers(108, -127, 127, 2), 0.01, 0);
  b.node('Gemm', [f, fw], ['logits'], { transB: 1 }, { name: 'fc' });
  const l = b.dequantize(b.quantize('logits', 0.1, 0), 0.1, 0, 'int8', { output: 'y' });
  b.output(l, 'float', [1, 3]);
  return importOnnx(b.build(), 'net.onnx');
}

describe('inferShapes and validateGraph on an imported net', () => {
  test('the imported graph is valid and inferShapes reproduces its shapes', () => {
    const graph = importedNet();
    validateGraph(graph);
    const shapes = new Map([...graph.tensors].map(([name, t]) => [name, [...t.shape]]));
    for (const node of graph.nodes) for (const output of node.outputs) graph.tensors.get(output)!.shape = [0];
    inferShapes(graph);
    for (const [name, shape] of shapes) expect(graph.tensors.get(name)!.shape).toEqual(shape);
    expect(graph.tensors.get(graph.outputs[0]!.tensor)!.shape).toEqual([1, 3]);
  });

  const broken: [string, (g: Graph) => string, RegExp][] = [
    ['a wrong output shape', (g) => nodeNamed(g, 'conv', (n) => (g.tensors.get(n.outputs[0]!)!.shape = [1, 6, 6, 5])), /output '.*' has shape \[1, 6, 6, 5\], expected \[1, 6, 6, 4\]/],
    ['two nodes with one name', (g) => {
      nodeNamed(g, 'pool', (n) => (n.name = 'conv'));
      return 'conv';
    }, /same name as an earlier node/],
    ['a read before the write', (g) => {
      const [first] = g.nodes.splice(0, 1);
      g.nodes.push(first!);
      return g.nodes[0]!.name;
    }, /is read before any node writes it/],
    ['a missing quantization', (g) => nodeNamed(g, 'fc', (n) => delete g.tensors.get(n.outputs[0]!)!.quant), /has no quantization parameters/],
    ['a clamp outside int8', (g) => nodeNamed(g, 'conv', (n) => n.op === 'Conv2D' && (n.attrs.clamp = { min: -200, max: 127 })), /clamp \[-200, 127\]/],
    ['a bias of the wrong length', (g) => nodeNamed(g, 'conv', (n) => {
      const bias = g.tensors.get(n.inputs[2]!)!;
      bias.shape = [3];
      bias.data = Int32Array.of(1, 2, 3);
      bias.quant = { scale: bias.quant!.scale.slice(0, 3), zeroPoint: [0, 0, 0], axis: 0 };
    }), /bias '.*' has 3 values for 4 output channels/],
    ['per-channel scales along the wrong axis', (g) => nodeNamed(g, 'conv', (n) => {
      const w = g.tensors.get(n.inputs[1]!)!;
      w.quant = { scale: [0.1, 0.1], zeroPoint: [0, 0], axis: 3 };
    }), /weights '.*' have 2 scales along axis 3; expected 4 along axis 0/],
    ['weights that are not constant', (g) => nodeNamed(g, 'fc', (n) => delete g.tensors.get(n.inputs[1]!)!.data), /input 1 '.*' is read before any node writes it/],
  ];
  for (const [what, breakIt, message] of broken) {
    test(`validateGraph names the node for ${what}`, () => {
      const graph = importedNet();
      const node = breakIt(graph);
      let error: unknown;
      try {
        validateGraph(graph);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(NodeError);
      expect((error as Error).message).toMatch(message);
      expect((error as NodeError).node).toBe(node);
    });
  }
});

function nodeNamed(graph: Graph, name: string, change: (node: Node) => unknown): string {
  const node = graph.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node '${name}' in ${graph.nodes.map((n) => n.name).join(', ')}`);
  change(node);
  return name;
}
