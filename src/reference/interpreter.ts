/**
 * The bit-exact reference interpreter: runs a graph node by node with TFLite-Micro's reference integer arithmetic.
 * It is the golden model the generated C and the device are compared with.
 */
import { InputError, NodeError } from '../errors.js';
import { elementCount, tensorOf } from '../ir/graph.js';
import type { Graph, Node, TensorData } from '../ir/types.js';
import { batchMatMul } from './kernels/batch-matmul.js';
import { dtypeOfData, type KernelInputs } from './kernels/common.js';
import { concat } from './kernels/concat.js';
import { conv2d } from './kernels/conv2d.js';
import { depthwiseConv2d } from './kernels/depthwise-conv2d.js';
import { elementwiseBinary } from './kernels/elementwise.js';
import { floatOp } from './kernels/float-op.js';
import { fullyConnected } from './kernels/fully-connected.js';
import { leakyRelu } from './kernels/leaky-relu.js';
import { mean } from './kernels/mean.js';
import { pad } from './kernels/pad.js';
import { pool2d } from './kernels/pool2d.js';
import { dequantize, quantize } from './kernels/quantize.js';
import { reshape } from './kernels/reshape.js';
import { softmax } from './kernels/softmax.js';
import { transpose } from './kernels/transpose.js';
import { unary } from './kernels/unary.js';

export interface ReferenceOptions {
  /** Keep every node output (by tensor name), for layer-by-layer comparison. */
  keepIntermediates?: boolean;
}

export interface ReferenceResult {
  /** In graph.outputs order, in the IR dtype. */
  outputs: TensorData[];
  intermediates?: Map<string, TensorData>;
}

/** Runs `graph` on `inputs` (graph.inputs order, IR dtype). */
export function runReference(graph: Graph, inputs: TensorData[], options: ReferenceOptions = {}): ReferenceResult {
  const first = graph.unsupported[0];
  if (first) {
    throw new NodeError(first.node, first.op, `unsupported op${first.reason ? `: ${first.reason}` : ''}`);
  }
  const values = new Map<string, TensorData>();
  bindInputs(graph, inputs, values);

  for (const node of graph.nodes) {
    const args: KernelInputs = node.inputs.map((name) => (name ? valueOf(graph, node, name, values) : undefined));
    const results = runNode(graph, node, args);
    node.outputs.forEach((name, i) => {
      const result = results[i];
      if (name && result) values.set(name, result);
    });
  }

  const outputs = graph.outputs.map((io) => {
    const value = values.get(io.tensor) ?? tensorOf(graph, io.tensor).data;
    if (!value) throw new Error(`graph '${graph.name}': output '${io.name}' is never computed`);
    return value;
  });
  if (!options.keepIntermediates) return { outputs };
  const intermediates = new Map<string, TensorData>();
  for (const node of graph.nodes) for (const name of node.outputs) if (values.has(name)) intermediates.set(name, values.get(name)!);
  return { outputs, intermediates };
}

function bindInputs(graph: Graph, inputs: TensorData[], values: Map<string, TensorData>): void {
  if (inputs.length !== graph.inputs.length) {
    const names = graph.inputs.map((io) => `'${io.name}'`).join(', ');
    throw new InputError(`model '${graph.name}' takes ${graph.inputs.length} input(s) (${names}), got ${inputs.length}`);
  }
  graph.inputs.forEach((io, i) => {
    const tensor = tensorOf(graph, io.tensor);
    const data = inputs[i]!;
    const expected = elementCount(tensor.shape);
    if (data.length !== expected) {
      throw new InputError(
        `input '${io.name}' expects ${expected} elements (shape [${tensor.shape.join(', ')}]), got ${data.length}`,
      );
    }
    if (dtypeOfData(data) !== tensor.dtype) {
      throw new InputError(`input '${io.name}' expects ${tensor.dtype} data, got ${dtypeOfData(data)}`);
    }
    values.set(io.tensor, data);
  });
}

function valueOf(graph: Graph, node: Node, name: string, values: Map<string, TensorData>): TensorData {
  const value = values.get(name) ?? graph.tensors.get(name)?.data;
  if (!value) throw new NodeError(node.name, node.op, `input '${name}' has no value (not a graph input, constant or earlier output)`);
  return value;
}

function runNode(graph: Graph, node: Node, inputs: KernelInputs): TensorData[] {
  switch (node.op) {
    case 'Conv2D':
      return conv2d(graph, node, inputs);
    case 'DepthwiseConv2D':
      return depthwiseConv2d(graph, node, inputs);
    case 'FullyConnected':
      return fullyConnected(graph, node, inputs);
    case 'BatchMatMul':
      return batchMatMul(graph, node, inputs);
    case 'Add':
    case 'Sub':
    case 'Mul':
      return elementwiseBinary(graph, node, inputs);
    case 'AveragePool2D':
    case 'MaxPool2D':
      return pool2d(graph, node, inputs);
    case 'Mean':
      return mean(graph, node, inputs);
    case 'Softmax':
      return softmax(graph, node, inputs);
    case 'Logistic':
    case 'Tanh':
    case 'HardSwish':
    case 'Neg':
    case 'Relu':
    case 'Relu6':
      return unary(graph, node, inputs);
    case 'LeakyRelu':
      return leakyRelu(graph, node, inputs);
    case 'Quantize':
      return quantize(graph, node, inputs);
    case 'Dequantize':
      return dequantize(graph, node, inputs);
    case 'Reshape':
      return reshape(graph, node, inputs);
    case 'Transpose':
      return transpose(graph, node, inputs);
    case 'Concat':
      return concat(graph, node, inputs);
    case 'Pad':
      return pad(graph, node, inputs);
    case 'FloatOp':
      return floatOp(graph, node, inputs);
    default: {
      const unknown = node as Node;
      throw new NodeError(unknown.name, unknown.op, 'unsupported op');
    }
  }
}
