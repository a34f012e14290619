/**
 * fuse-activation: a standalone activation that only clamps (Relu, Relu6, or an int8 -> int8 Quantize between equal
 * parameters with a narrower clamp) after an op with an output clamp (Conv2D, DepthwiseConv2D, FullyConnected,
 * BatchMatMul, Add, Sub, Mul, AveragePool2D, MaxPool2D) folds into that op's clamp; the op then writes the
 * activation's output tensor.
 *
 * Conditions: the producer's int8 output is read by the activation alone and is not a graph output; the activation's
 * output has exactly the producer output's quantization (so the producer's requantization, derived from its output
 * tensor, is unchanged when it writes the activation's tensor instead).
 *
 * Why it is safe: the producer computes an integer v and writes clamp(v, lo, hi); the activation then applies its
 * table T. The pass asks the reference interpreter for T (all 256 inputs) and fuses only when x -> T[clamp(x, lo, hi)]
 * equals x -> clamp(x, lo', hi') for every int8 x. That also holds for every v outside int8, since both sides then
 * take their value at -128 or 127, so clamp(v, lo', hi') is exactly what the two nodes computed.
 */
import type { Clamp, Graph, Node } from '../ir/types.js';
import { GraphEdit, sameQuantization, type PassResult } from './graph-edit.js';
import { int8Table } from './reference-probe.js';

const CLAMPING_PRODUCERS = new Set<Node['op']>(['Conv2D', 'DepthwiseConv2D', 'FullyConnected', 'BatchMatMul', 'Add', 'Sub', 'Mul', 'AveragePool2D', 'MaxPool2D']);
const ACTIVATIONS = new Set<Node['op']>(['Relu', 'Relu6', 'Quantize']);

type ClampingNode = Extract<Node, { attrs: { clamp: Clamp } }>;

export function fuseActivation(graph: Graph): PassResult {
  const edit = new GraphEdit(graph);
  for (const { name } of graph.nodes) {
    const activation = edit.node(name)!;
    if (!ACTIVATIONS.has(activation.op)) continue;
    const current = edit.graph;
    const middle = activation.inputs[0]!;
    const producer = edit.producer(middle);
    if (!producer || !CLAMPING_PRODUCERS.has(producer.op) || producer.outputs.length !== 1) continue;
    if (edit.isGraphOutput(middle) || edit.consumers(middle).length !== 1) continue;
    const before = current.tensors.get(middle)!;
    const after = current.tensors.get(activation.outputs[0]!)!;
    if (before.dtype !== 'int8' || after.dtype !== 'int8' || !sameQuantization(before, after)) continue;
    const clamp = fusedClamp((producer as ClampingNode).attrs.clamp, int8Table(current, activation));
    if (!clamp) continue;

    const fused = { ...producer, outputs: [activation.outputs[0]!], attrs: { ...producer.attrs, clamp } } as Node;
    edit.replaceNode(producer, fused);
    edit.removeNode(activation);
    edit.note(`fused ${activation.op} '${activation.name}' into ${producer.op} '${producer.name}': clamp [${clamp.min}, ${clamp.max}]`);
  }
  return edit.result();
}

/** The single clamp equal to `producerClamp` followed by `table`, or null when the table is not a clamp there. */
export function fusedClamp(producerClamp: Clamp, table: Int8Array | null): Clamp | null {
  if (!table) return null;
  const composed = (x: number) => table[Math.min(producerClamp.max, Math.max(producerClamp.min, x)) + 128]!;
  const min = composed(-128);
  const max = composed(127);
  if (min > max) return null;
  for (let x = -128; x <= 127; x++) if (composed(x) !== Math.min(max, Math.max(min, x))) return null;
  return { min, max };
}
