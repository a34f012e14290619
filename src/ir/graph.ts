import type { DataType, Graph, Node, Tensor, TensorData } from './types.js';

/** The tensor called `name`; a missing tensor is a bug in whoever built the graph, so this throws a plain Error. */
export function tensorOf(graph: Graph, name: string): Tensor {
  const tensor = graph.tensors.get(name);
  if (!tensor) throw new Error(`graph '${graph.name}' has no tensor '${name}'`);
  return tensor;
}

export function isConstant(tensor: Tensor): boolean {
  return tensor.data !== undefined;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Byte size of one element of a dtype. */
export function dtypeBytes(dtype: Tensor['dtype']): number {
  switch (dtype) {
    case 'int8':
    case 'uint8':
      return 1;
    case 'int16':
      return 2;
    case 'int32':
    case 'float32':
      return 4;
    case 'int64':
      return 8;
  }
}

/** The node that writes each tensor. */
export function producers(graph: Graph): Map<string, Node> {
  const map = new Map<string, Node>();
  for (const node of graph.nodes) for (const out of node.outputs) map.set(out, node);
  return map;
}

/** The nodes that read each tensor, in execution order. */
export function consumers(graph: Graph): Map<string, Node[]> {
  const map = new Map<string, Node[]>();
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      if (!input) continue;
      const list = map.get(input) ?? [];
      if (!list.includes(node)) list.push(node);
      map.set(input, list);
    }
  }
  return map;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

const TYPED_ARRAYS = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  float32: Float32Array,
} as const;

/** A zero-filled typed array of `length` elements of `dtype`. */
export function typedArrayFor(dtype: DataType, length: number): TensorData {
  return new TYPED_ARRAYS[dtype](length);
}

/**
 * A fresh, aligned typed array of `dtype` holding a copy of `bytes` (little-endian: the host and every Cortex-M).
 * The copy matters: bytes from a file or a serial frame may sit at any offset of a larger buffer.
 */
export function typedFromBytes(dtype: DataType, bytes: ArrayBufferView): TensorData {
  const copy = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice().buffer;
  return new TYPED_ARRAYS[dtype](copy);
}

/** The value range of an integer dtype; floats have none. */
export function integerRange(dtype: DataType): { min: number; max: number } | undefined {
  switch (dtype) {
    case 'int8':
      return { min: -128, max: 127 };
    case 'uint8':
      return { min: 0, max: 255 };
    case 'int16':
      return { min: -32768, max: 32767 };
    case 'int32':
      return { min: -2147483648, max: 2147483647 };
    case 'int64':
      return { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER };
    case 'float32':
      return undefined;
  }
}

/** Row-major strides of `shape` right-aligned against `outputShape`; broadcast axes (size 1 or missing) get 0. */
export function broadcastStrides(shape: readonly number[], outputShape: readonly number[]): number[] {
  const rank = outputShape.length;
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const axis = rank - shape.length + i;
    strides[axis] = shape[i] === 1 && outputShape[axis] !== 1 ? 0 : stride;
    stride *= shape[i]!;
  }
  return strides;
}
