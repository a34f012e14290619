import type { Graph, Node, Tensor } from './types.js';

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
