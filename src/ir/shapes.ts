/**
 * Output shapes of every IR op from its input shapes (NHWC conventions of types.ts). The frontends build tensors
 * with these, and inferShapes re-derives a whole graph after a pass has rewritten it.
 */
import { NodeError } from '../errors.js';
import { elementCount, tensorOf } from './graph.js';
import type { FloatOpNode, Graph, Node } from './types.js';

/** Shapes of all of a node's outputs. Throws NodeError when the inputs do not fit the op. */
export function outputShapes(node: Node, inputShapes: readonly (readonly number[] | undefined)[]): number[][] {
  const input = (index: number): readonly number[] => {
    const shape = inputShapes[index];
    if (!shape) throw new NodeError(node.name, node.op, `input ${index} is missing`);
    return shape;
  };
  const fail = (detail: string): never => {
    throw new NodeError(node.name, node.op, detail);
  };

  switch (node.op) {
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      const x = input(0);
      const w = input(1);
      if (x.length !== 4) fail(`input must be 4-D NHWC, got [${x.join(', ')}]`);
      if (w.length !== 4) fail(`weights must be 4-D, got [${w.join(', ')}]`);
      const [kh, kw] = [w[1]!, w[2]!];
      const { stride, dilation, padding } = node.attrs;
      const channels = node.op === 'Conv2D' ? w[0]! : w[3]!;
      return [[x[0]!, convOutputSize(x[1]!, kh, stride[0], dilation[0], padding.top, padding.bottom), convOutputSize(x[2]!, kw, stride[1], dilation[1], padding.left, padding.right), channels]];
    }
    case 'FullyConnected': {
      const x = input(0);
      const w = input(1);
      if (w.length !== 2) fail(`weights must be [Cout, Cin], got [${w.join(', ')}]`);
      const [outputs, depth] = [w[0]!, w[1]!];
      if (node.attrs.keepNumDims) {
        if (x[x.length - 1] !== depth) fail(`input [${x.join(', ')}] does not end in the weights' ${depth} input channels`);
        return [[...x.slice(0, -1), outputs]];
      }
      const size = elementCount(x);
      if (depth === 0 || size % depth !== 0) fail(`input [${x.join(', ')}] is not a whole number of rows of ${depth}`);
      return [[size / depth, outputs]];
    }
    case 'BatchMatMul': {
      const a = input(0);
      const b = input(1);
      if (a.length < 2 || b.length < 2) fail('both inputs must have at least 2 dimensions');
      const [m, k] = [a[a.length - 2]!, a[a.length - 1]!];
      const [k2, n] = [b[b.length - 2]!, b[b.length - 1]!];
      if (k !== k2) fail(`inner dimensions differ: [${a.join(', ')}] x [${b.join(', ')}]`);
      const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
      if (!batch) fail(`batch dimensions do not broadcast: [${a.join(', ')}] x [${b.join(', ')}]`);
      return [[...batch!, m, n]];
    }
    case 'Add':
    case 'Sub':
    case 'Mul': {
      const shape = broadcastShapes(input(0), input(1));
      if (!shape) fail(`shapes [${input(0).join(', ')}] and [${input(1).join(', ')}] do not broadcast`);
      return [shape!];
    }
    case 'AveragePool2D':
    case 'MaxPool2D': {
      const x = input(0);
      if (x.length !== 4) fail(`input must be 4-D NHWC, got [${x.join(', ')}]`);
      const { filter, stride, padding } = node.attrs;
      return [[x[0]!, convOutputSize(x[1]!, filter[0], stride[0], 1, padding.top, padding.bottom), convOutputSize(x[2]!, filter[1], stride[1], 1, padding.left, padding.right), x[3]!]];
    }
    case 'Mean': {
      const x = input(0);
      const axes = node.attrs.axes.map((axis) => normalizeAxis(axis, x.length, node));
      return [x.flatMap((d, i) => (axes.includes(i) ? (node.attrs.keepDims ? [1] : []) : [d]))];
    }
    case 'Softmax':
    case 'Logistic':
    case 'Tanh':
    case 'HardSwish':
    case 'Neg':
    case 'Relu':
    case 'Relu6':
    case 'LeakyRelu':
    case 'Quantize':
    case 'Dequantize':
      return [[...input(0)]];
    case 'Reshape': {
      const shape = resolveReshape(input(0), node.attrs.shape);
      if (!shape) fail(`cannot reshape [${input(0).join(', ')}] to [${node.attrs.shape.join(', ')}]`);
      return [shape!];
    }
    case 'Transpose': {
      const x = input(0);
      const { perm } = node.attrs;
      if (!isPermutation(perm, x.length)) fail(`perm [${perm.join(', ')}] is not a permutation of ${x.length} axes`);
      return [perm.map((p) => x[p]!)];
    }
    case 'Concat': {
      const shapes = node.inputs.map((_, i) => input(i));
      const first = shapes[0]!;
      const axis = normalizeAxis(node.attrs.axis, first.length, node);
      const out = [...first];
      out[axis] = 0;
      for (const shape of shapes) {
        if (shape.length !== first.length || shape.some((d, i) => i !== axis && d !== first[i])) {
          fail(`inputs [${shapes.map((s) => `[${s.join(', ')}]`).join(', ')}] differ outside axis ${axis}`);
        }
        out[axis]! += shape[axis]!;
      }
      return [out];
    }
    case 'Pad': {
      const x = input(0);
      const { before, after } = node.attrs;
      if (before.length !== x.length || after.length !== x.length) fail(`pads for ${before.length} axes on a ${x.length}-D input`);
      return [x.map((d, i) => d + before[i]! + after[i]!)];
    }
    case 'FloatOp':
      return floatOpOutputShapes(node, inputShapes, fail);
  }
}

/** Shape of a node's first (usually only) output. */
export function outputShape(node: Node, inputShapes: readonly (readonly number[] | undefined)[]): number[] {
  return outputShapes(node, inputShapes)[0]!;
}

/** Recompute every node output's shape in order; throws NodeError when a node's inputs do not fit it. */
export function inferShapes(graph: Graph): void {
  for (const node of graph.nodes) {
    const shapes = outputShapes(
      node,
      node.inputs.map((name) => (name ? tensorOf(graph, name).shape : undefined)),
    );
    node.outputs.forEach((name, i) => {
      if (!name) return;
      const shape = shapes[i];
      if (!shape) throw new NodeError(node.name, node.op, `has no shape rule for output ${i}`);
      tensorOf(graph, name).shape = shape;
    });
  }
}

/** floor((in + pads - dilated kernel) / stride) + 1: the output size of a convolution or pooling window. */
export function convOutputSize(size: number, kernel: number, stride: number, dilation: number, padBefore: number, padAfter: number): number {
  const effective = dilation * (kernel - 1) + 1;
  return Math.floor((size + padBefore + padAfter - effective) / stride) + 1;
}

/** Numpy broadcasting; undefined when the shapes are incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** A reshape target with at most one -1 resolved; undefined when the element counts differ. */
export function resolveReshape(input: readonly number[], target: readonly number[]): number[] | undefined {
  const size = elementCount(input);
  const unknown = target.filter((d) => d === -1).length;
  if (unknown > 1 || target.some((d) => d < -1)) return undefined;
  const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  if (unknown === 1) {
    if (known === 0 || size % known !== 0) return undefined;
    return target.map((d) => (d === -1 ? size / known : d));
  }
  return known === size ? [...target] : undefined;
}

export function isPermutation(perm: readonly number[], rank: number): boolean {
  return perm.length === rank && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
}

function normalizeAxis(axis: number, rank: number, node: Node): number {
  const normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) throw new NodeError(node.name, node.op, `axis ${axis} is out of range for ${rank}-D input`);
  return normalized;
}

/** Shape rules of the float ops the ONNX frontend imports (see src/frontend/onnx/float-ops.ts for their semantics). */
function floatOpOutputShapes(node: FloatOpNode, inputShapes: readonly (readonly number[] | undefined)[], fail: (detail: string) => never): number[][] {
  const { onnxOp, params } = node.attrs;
  const first = inputShapes[0];
  if (!first) return fail(`${onnxOp}: input 0 is missing`);
  switch (onnxOp) {
    case 'DynamicQuantizeLinear':
      return [[...first], [], []];
    case 'ReduceMin':
    case 'ReduceMax':
    case 'ReduceMean':
    case 'ReduceSum': {
      const keep = params['keepdims'] !== 0;
      const given = params['axes'];
      const axes = Array.isArray(given) ? given.map((a) => (a < 0 ? a + first.length : a)) : first.map((_, i) => i);
      return [first.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d]))];
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
    case 'Min':
    case 'Max': {
      let shape: number[] | undefined = [...first];
      for (const other of inputShapes.slice(1)) {
        if (!other) continue;
        shape = broadcastShapes(shape, other);
        if (!shape) return fail(`${onnxOp}: inputs do not broadcast`);
      }
      return [shape];
    }
    case 'Clip':
    case 'Round':
    case 'Cast':
    case 'Identity':
    case 'Relu':
    case 'QuantizeLinear':
    case 'DequantizeLinear':
      return [[...first]];
    default:
      return fail(`float op ${onnxOp} has no shape rule`);
  }
}
