/**
 * The IR checker, run after every frontend and pass: structure (names, single writers, topological order), tensor
 * consistency (data sizes, quantization parameters), per-op operand types and attributes, and that every output's
 * shape is the one shapes.ts derives. The first problem is thrown as a NodeError naming the node (or the graph
 * input/output/tensor concerned).
 */
import { NodeError } from '../errors.js';
import { elementCount } from './graph.js';
import { outputShapes } from './shapes.js';
import type { Clamp, DataType, Graph, Node, Padding2D, Tensor, TensorData } from './types.js';

const INT_RANGES: Partial<Record<DataType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

export function validateGraph(graph: Graph): void {
  checkTensors(graph);
  checkStructure(graph);
  for (const node of graph.nodes) {
    checkOperands(graph, node);
    checkShapes(graph, node);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Structure

function checkStructure(graph: Graph): void {
  const available = new Set<string>();
  for (const io of graph.inputs) {
    const tensor = graph.tensors.get(io.tensor);
    if (!tensor) throw new NodeError(io.name, 'graph input', `tensor '${io.tensor}' does not exist`);
    if (tensor.data) throw new NodeError(io.name, 'graph input', `tensor '${io.tensor}' is a constant`);
    available.add(io.tensor);
  }
  for (const tensor of graph.tensors.values()) if (tensor.data) available.add(tensor.name);

  const names = new Set<string>();
  const written = new Set<string>();
  for (const node of graph.nodes) {
    const fail = (detail: string): never => {
      throw new NodeError(node.name || '(unnamed)', node.op, detail);
    };
    if (!node.name) fail('has no name');
    if (names.has(node.name)) fail('has the same name as an earlier node');
    names.add(node.name);
    node.inputs.forEach((input, port) => {
      if (!input) return;
      if (!graph.tensors.has(input)) fail(`input ${port} '${input}' does not exist`);
      if (!available.has(input)) fail(`input ${port} '${input}' is read before any node writes it`);
    });
    if (node.outputs.length === 0) fail('has no outputs');
    node.outputs.forEach((output, port) => {
      if (!output) fail(`output ${port} has no name`);
      const tensor = graph.tensors.get(output);
      if (!tensor) fail(`output ${port} '${output}' does not exist`);
      if (tensor!.data) fail(`writes the constant '${output}'`);
      if (graph.inputs.some((io) => io.tensor === output)) fail(`writes the graph input '${output}'`);
      if (written.has(output)) fail(`writes '${output}', which an earlier node already writes`);
      written.add(output);
      available.add(output);
    });
  }
  for (const io of graph.outputs) {
    if (!graph.tensors.has(io.tensor)) throw new NodeError(io.name, 'graph output', `tensor '${io.tensor}' does not exist`);
    if (!available.has(io.tensor)) throw new NodeError(io.name, 'graph output', `tensor '${io.tensor}' is never computed`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Tensors

function checkTensors(graph: Graph): void {
  for (const [key, tensor] of graph.tensors) {
    const fail = (detail: string): never => {
      throw new NodeError(key, 'tensor', detail);
    };
    if (tensor.name !== key) fail(`is stored under the name '${key}' but called '${tensor.name}'`);
    if (tensor.shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`has an invalid shape [${tensor.shape.join(', ')}]`);
    if (tensor.data) {
      if (tensor.data.length !== elementCount(tensor.shape)) fail(`holds ${tensor.data.length} values for shape [${tensor.shape.join(', ')}]`);
      if (dataTypeOf(tensor.data) !== tensor.dtype) fail(`is ${tensor.dtype} but holds ${dataTypeOf(tensor.data)} data`);
    }
    if (tensor.quant) checkQuantization(tensor, fail);
  }
}

function checkQuantization(tensor: Tensor, fail: (detail: string) => never): void {
  const { scale, zeroPoint, axis } = tensor.quant!;
  if (scale.length === 0) fail('has quantization without scales');
  if (scale.length !== zeroPoint.length) fail(`has ${scale.length} scales and ${zeroPoint.length} zero points`);
  for (const s of scale) if (!(s > 0) || !Number.isFinite(s)) fail(`has scale ${s}, which is not a positive finite number`);
  const range = INT_RANGES[tensor.dtype];
  for (const z of zeroPoint) {
    if (!Number.isInteger(z)) fail(`has a non-integer zero point ${z}`);
    if (range && (z < range[0] || z > range[1])) fail(`has zero point ${z} outside the ${tensor.dtype} range`);
  }
  if (scale.length > 1) {
    if (!Number.isInteger(axis) || axis < 0 || axis >= tensor.shape.length) fail(`is quantized per channel along axis ${axis} of a ${tensor.shape.length}-D tensor`);
    if (tensor.shape[axis] !== scale.length) fail(`has ${scale.length} scales for axis ${axis} of size ${tensor.shape[axis]}`);
  }
}

function dataTypeOf(data: TensorData): DataType {
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'float32';
}

// ---------------------------------------------------------------------------------------------------------------
// Operands and attributes per op

function checkOperands(graph: Graph, node: Node): void {
  const fail = (detail: string): never => {
    throw new NodeError(node.name, node.op, detail);
  };
  const tensor = (name: string): Tensor => graph.tensors.get(name)!;
  const input = (port: number): Tensor => {
    const name = node.inputs[port];
    if (!name) return fail(`input ${port} is missing`);
    return tensor(name);
  };
  const output = (port = 0): Tensor => tensor(node.outputs[port]!);
  const arity = (min: number, max = min): void => {
    const count = node.inputs.length;
    if (count < min || count > max) fail(`has ${count} inputs, expected ${min === max ? min : `${min} to ${max}`}`);
    if (node.op !== 'FloatOp' && node.outputs.length !== 1) fail(`has ${node.outputs.length} outputs, expected 1`);
  };
  /** A quantized int8 activation (or constant) operand. */
  const quantizedInt8 = (t: Tensor, what: string, perTensor = true): void => {
    if (t.dtype !== 'int8') fail(`${what} '${t.name}' is ${t.dtype}, expected int8`);
    if (!t.quant) fail(`${what} '${t.name}' has no quantization parameters`);
    if (perTensor && t.quant!.scale.length !== 1) fail(`${what} '${t.name}' is quantized per channel; expected one scale`);
  };
  /** Result of a MAC op: int8 with quantization, or int32 (ONNX ConvInteger / MatMulInteger) without. */
  const macOutput = (t: Tensor, clamp: Clamp): void => {
    if (t.dtype === 'int32') return checkClamp(clamp, 'int32', fail);
    quantizedInt8(t, 'output');
    checkClamp(clamp, 'int8', fail);
  };
  const constantWeights = (t: Tensor, channelAxis: number, channels: number): void => {
    quantizedInt8(t, 'weights', false);
    if (!t.data) fail(`weights '${t.name}' are not a constant`);
    const count = t.quant!.scale.length;
    if (count > 1 && (t.quant!.axis !== channelAxis || count !== channels)) {
      fail(`weights '${t.name}' have ${count} scales along axis ${t.quant!.axis}; expected ${channels} along axis ${channelAxis}`);
    }
  };
  const bias = (port: number, channels: number): void => {
    const name = node.inputs[port];
    if (!name) return;
    const t = tensor(name);
    if (t.dtype !== 'int32') fail(`bias '${name}' is ${t.dtype}, expected int32`);
    if (!t.data) fail(`bias '${name}' is not a constant`);
    if (elementCount(t.shape) !== channels) fail(`bias '${name}' has ${elementCount(t.shape)} values for ${channels} output channels`);
  };

  switch (node.op) {
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      arity(2, 3);
      const x = input(0);
      const w = input(1);
      quantizedInt8(x, 'input');
      if (w.shape.length !== 4) fail(`weights '${w.name}' are ${w.shape.length}-D, expected 4-D`);
      checkWindow(node.attrs.stride, node.attrs.dilation, node.attrs.padding, fail);
      const channelsIn = x.shape[3]!;
      if (node.op === 'Conv2D') {
        const { groups } = node.attrs;
        if (!Number.isInteger(groups) || groups < 1) fail(`groups ${groups} is not a positive integer`);
        if (w.shape[3]! * groups !== channelsIn) fail(`weights [${w.shape.join(', ')}] with ${groups} group(s) do not fit ${channelsIn} input channels`);
        if (w.shape[0]! % groups !== 0) fail(`${w.shape[0]} output channels do not split into ${groups} groups`);
        const positions = node.attrs.outputPositions;
        if (positions !== undefined) {
          const seen = new Set(positions);
          if (positions.length !== w.shape[0] || seen.size !== positions.length || positions.some((p) => !Number.isInteger(p) || p < 0 || p >= w.shape[0]!)) {
            fail(`outputPositions is not a permutation of its ${w.shape[0]} output channels`);
          }
        }
        constantWeights(w, 0, w.shape[0]!);
        bias(2, w.shape[0]!);
      } else {
        const multiplier = node.attrs.depthMultiplier;
        if (w.shape[0] !== 1) fail(`depthwise weights [${w.shape.join(', ')}] should be [1, kh, kw, C * multiplier]`);
        if (w.shape[3] !== channelsIn * multiplier) fail(`depthwise weights [${w.shape.join(', ')}] do not fit ${channelsIn} input channels x multiplier ${multiplier}`);
        constantWeights(w, 3, w.shape[3]!);
        bias(2, w.shape[3]!);
      }
      macOutput(output(), node.attrs.clamp);
      return;
    }
    case 'FullyConnected': {
      arity(2, 3);
      quantizedInt8(input(0), 'input');
      const w = input(1);
      if (w.shape.length !== 2) fail(`weights '${w.name}' should be [Cout, Cin]`);
      constantWeights(w, 0, w.shape[0]!);
      bias(2, w.shape[0]!);
      macOutput(output(), node.attrs.clamp);
      return;
    }
    case 'BatchMatMul':
      arity(2);
      quantizedInt8(input(0), 'input A');
      quantizedInt8(input(1), 'input B');
      macOutput(output(), node.attrs.clamp);
      return;
    case 'Add':
    case 'Sub':
    case 'Mul':
      arity(2);
      quantizedInt8(input(0), 'input A');
      quantizedInt8(input(1), 'input B');
      quantizedInt8(output(), 'output');
      checkClamp(node.attrs.clamp, 'int8', fail);
      return;
    case 'AveragePool2D':
    case 'MaxPool2D': {
      arity(1);
      quantizedInt8(input(0), 'input');
      quantizedInt8(output(), 'output');
      const { filter, stride, padding, clamp } = node.attrs;
      if (filter.some((f) => !Number.isInteger(f) || f < 1)) fail(`filter [${filter.join(', ')}] is not positive`);
      checkWindow(stride, [1, 1], padding, fail);
      checkClamp(clamp, 'int8', fail);
      return;
    }
    case 'Mean': {
      arity(1);
      const x = input(0);
      quantizedInt8(x, 'input');
      quantizedInt8(output(), 'output');
      const { axes } = node.attrs;
      const normalized = axes.map((a) => (a < 0 ? a + x.shape.length : a));
      if (normalized.some((a) => a < 0 || a >= x.shape.length) || new Set(normalized).size !== axes.length) {
        fail(`axes [${axes.join(', ')}] are not distinct axes of a ${x.shape.length}-D input`);
      }
      return;
    }
    case 'Softmax':
      arity(1);
      quantizedInt8(input(0), 'input');
      quantizedInt8(output(), 'output');
      if (!(node.attrs.beta > 0)) fail(`beta ${node.attrs.beta} is not positive`);
      return;
    case 'Logistic':
    case 'Tanh':
    case 'HardSwish':
    case 'Neg':
    case 'Relu':
    case 'Relu6':
    case 'LeakyRelu':
      arity(1);
      quantizedInt8(input(0), 'input');
      quantizedInt8(output(), 'output');
      if (node.op === 'LeakyRelu' && !Number.isFinite(node.attrs.alpha)) fail(`alpha ${node.attrs.alpha} is not a number`);
      return;
    case 'Quantize': {
      arity(1);
      const x = input(0);
      if (x.dtype !== 'float32') quantizedInt8(x, 'input', false);
      const y = output();
      quantizedInt8(y, 'output', false);
      if (x.dtype !== 'float32' && (x.quant!.scale.length > 1 || y.quant!.scale.length > 1)) fail('requantizes per channel');
      if (node.attrs.rounding !== 'half-even' && node.attrs.rounding !== 'half-away') fail(`unknown rounding '${node.attrs.rounding}'`);
      checkClamp(node.attrs.clamp, 'int8', fail);
      return;
    }
    case 'Dequantize': {
      arity(1);
      const x = input(0);
      if (x.dtype !== 'int8' && x.dtype !== 'int32') fail(`input '${x.name}' is ${x.dtype}, expected int8`);
      if (!x.quant) fail(`input '${x.name}' has no quantization parameters`);
      if (output().dtype !== 'float32') fail(`output is ${output().dtype}, expected float32`);
      return;
    }
    case 'Reshape':
    case 'Transpose':
    case 'Pad': {
      arity(1);
      const x = input(0);
      const y = output();
      if (x.dtype !== y.dtype) fail(`changes the type from ${x.dtype} to ${y.dtype}`);
      if (x.quant && !y.quant) fail('drops the quantization parameters');
      if (node.op === 'Pad') {
        const range = INT_RANGES[x.dtype];
        if (range && (!Number.isInteger(node.attrs.value) || node.attrs.value < range[0] || node.attrs.value > range[1])) {
          fail(`pad value ${node.attrs.value} is not a ${x.dtype} value`);
        }
        if ([...node.attrs.before, ...node.attrs.after].some((p) => !Number.isInteger(p) || p < 0)) fail('has negative or fractional pads');
      }
      return;
    }
    case 'Concat': {
      if (node.inputs.length < 1) fail('has no inputs');
      if (node.outputs.length !== 1) fail(`has ${node.outputs.length} outputs, expected 1`);
      const y = output();
      node.inputs.forEach((_, port) => {
        const x = input(port);
        if (x.dtype !== y.dtype) fail(`input ${port} is ${x.dtype}, output ${y.dtype}`);
        if (y.dtype === 'int8') quantizedInt8(x, `input ${port}`);
      });
      if (y.dtype === 'int8') quantizedInt8(y, 'output');
      return;
    }
    case 'FloatOp':
      if (!node.attrs.onnxOp) fail('has no onnxOp');
      return;
  }
}

function checkWindow(stride: readonly number[], dilation: readonly number[], padding: Padding2D, fail: (detail: string) => never): void {
  if (stride.length !== 2 || stride.some((s) => !Number.isInteger(s) || s < 1)) fail(`stride [${stride.join(', ')}] is not two positive integers`);
  if (dilation.length !== 2 || dilation.some((d) => !Number.isInteger(d) || d < 1)) fail(`dilation [${dilation.join(', ')}] is not two positive integers`);
  const pads = [padding.top, padding.bottom, padding.left, padding.right];
  if (pads.some((p) => !Number.isInteger(p) || p < 0)) fail(`padding [${pads.join(', ')}] is not non-negative integers`);
}

function checkClamp(clamp: Clamp, dtype: DataType, fail: (detail: string) => never): void {
  const [lo, hi] = INT_RANGES[dtype]!;
  if (!Number.isInteger(clamp.min) || !Number.isInteger(clamp.max) || clamp.min < lo || clamp.max > hi || clamp.min > clamp.max) {
    fail(`clamp [${clamp.min}, ${clamp.max}] is not a range of ${dtype} values`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Shapes

function checkShapes(graph: Graph, node: Node): void {
  const shapes = outputShapes(
    node,
    node.inputs.map((name) => (name ? graph.tensors.get(name)!.shape : undefined)),
  );
  node.outputs.forEach((name, i) => {
    const actual = graph.tensors.get(name)!.shape;
    const expected = shapes[i];
    if (!expected || expected.length !== actual.length || expected.some((d, k) => d !== actual[k])) {
      throw new NodeError(node.name, node.op, `output '${name}' has shape [${actual.join(', ')}], expected [${expected?.join(', ')}]`);
    }
  });
}
