/**
 * What every reference kernel needs: its input values by port, typed output allocation, shapes.
 * A kernel is a pure function (graph, node, input values) -> output values.
 */
import { NodeError } from '../../errors.js';
import { elementCount, tensorOf } from '../../ir/graph.js';
import type { DataType, Graph, Node, Tensor, TensorData } from '../../ir/types.js';
import { typedArrayFor } from '../../ir/graph.js';

/** Input values by port; an absent optional input is undefined. */
export type KernelInputs = ReadonlyArray<TensorData | undefined>;

export type Kernel<N extends Node> = (graph: Graph, node: N, inputs: KernelInputs) => TensorData[];

/** Numeric element access for any tensor data (int64 is read through Number, exact below 2^53). */
export type Numbers = ArrayLike<number>;

export function required(node: Node, inputs: KernelInputs, port: number, what: string): TensorData {
  const value = inputs[port];
  if (!value) throw new NodeError(node.name, node.op, `missing ${what} (input ${port})`);
  return value;
}

export function numbers(data: TensorData): Numbers {
  if (data instanceof BigInt64Array) return Float64Array.from(data, (v) => Number(v));
  return data;
}

export function inputTensor(graph: Graph, node: Node, port: number): Tensor {
  return tensorOf(graph, node.inputs[port]!);
}

export function outputTensor(graph: Graph, node: Node, port = 0): Tensor {
  return tensorOf(graph, node.outputs[port]!);
}


/** The dtype a typed array holds. */
export function dtypeOfData(data: TensorData): DataType {
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'float32';
}


/** Output data of `node` at `port` with its declared dtype and element count. */
export function allocateOutput(graph: Graph, node: Node, port = 0): TensorData {
  const tensor = outputTensor(graph, node, port);
  return typedArrayFor(tensor.dtype, elementCount(tensor.shape));
}

/** An int8 output, checking that the graph declares it so. */
export function allocateInt8Output(graph: Graph, node: Node): Int8Array {
  const tensor = outputTensor(graph, node);
  if (tensor.dtype !== 'int8') {
    throw new NodeError(node.name, node.op, `output '${tensor.name}' is ${tensor.dtype}; this kernel produces int8`);
  }
  return new Int8Array(elementCount(tensor.shape));
}

/** A 4-D NHWC shape, rank checked. */
export function nhwc(node: Node, tensor: Tensor): [number, number, number, number] {
  if (tensor.shape.length !== 4) {
    throw new NodeError(node.name, node.op, `'${tensor.name}' must be 4-D (NHWC), has shape [${tensor.shape.join(', ')}]`);
  }
  return tensor.shape as [number, number, number, number];
}

