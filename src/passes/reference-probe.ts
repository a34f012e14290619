/**
 * Asking the reference interpreter what one node computes. Passes that must keep outputs bit-identical decide from
 * the very arithmetic they have to preserve (the reference kernels, src/quant/params.ts) instead of re-deriving it.
 */
import type { Graph, Node, Tensor, TensorData } from '../ir/types.js';
import { runReference } from '../reference/interpreter.js';

/**
 * Runs `node` alone on `inputs` (its non-constant inputs, in port order). `shapes` overrides tensor shapes for the
 * run (an element-wise op can be probed on a vector of every possible value).
 */
export function runSingleNode(graph: Graph, node: Node, inputs: TensorData[], shapes: ReadonlyMap<string, number[]> = new Map()): TensorData[] {
  const tensors = new Map(graph.tensors);
  for (const [name, shape] of shapes) tensors.set(name, { ...tensors.get(name)!, shape });
  const activations = node.inputs.filter((name) => name && !tensors.get(name)!.data);
  const io = (name: string) => ({ tensor: name, externalDtype: tensors.get(name)!.dtype, name });
  const probe: Graph = { ...graph, tensors, nodes: [node], inputs: activations.map(io), outputs: node.outputs.map(io), unsupported: [] };
  return runReference(probe, inputs).outputs;
}

/** Element-wise int8 -> int8 ops: the output of every input value is a 256-entry table. */
const ELEMENTWISE_INT8_OPS = new Set<Node['op']>(['Quantize', 'Relu', 'Relu6', 'Neg', 'Logistic', 'Tanh', 'HardSwish', 'LeakyRelu']);

/** The node's output for each int8 input x at index x + 128, or null when it is not an element-wise int8 -> int8 op. */
export function int8Table(graph: Graph, node: Node): Int8Array | null {
  if (!ELEMENTWISE_INT8_OPS.has(node.op) || node.inputs.length !== 1) return null;
  const input = graph.tensors.get(node.inputs[0]!);
  const output = graph.tensors.get(node.outputs[0]!);
  if (!isPerTensorInt8(input) || !isPerTensorInt8(output) || input.data) return null;
  const values = new Int8Array(256);
  for (let i = 0; i < 256; i++) values[i] = i - 128;
  const shapes = new Map([
    [input.name, [256]],
    [output.name, [256]],
  ]);
  try {
    return runSingleNode(graph, node, [values], shapes)[0] as Int8Array;
  } catch {
    return null; // what the reference cannot run, no pass rewrites
  }
}

export function isPerTensorInt8(tensor: Tensor | undefined): tensor is Tensor {
  return tensor !== undefined && tensor.dtype === 'int8' && tensor.quant !== undefined && tensor.quant.scale.length === 1;
}
