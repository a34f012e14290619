/**
 * C.ReLU (concatenated ReLU, Shang et al. 2016): y = act(scale[c] * Concat(x, -x)[c]) computed by one kernel that
 * reads x once and writes both halves of every output pixel, instead of a Neg pass, a Concat copy, a broadcasting Mul
 * and a ReLU pass over memory.
 *
 * Recognised chain (each intermediate tensor read only by the next node and not a graph output):
 *   Neg(x) -> Concat(x, Neg(x)) or Concat(Neg(x), x) on the last axis -> [Mul by a constant along the last axis]
 *   -> [Relu / Relu6 / any table-driven unary op]
 * Bit-exactness: every step is the unfused graph's own arithmetic. Each output channel is a function of one int8
 * input value, tabulated by running the chain's nodes in the reference interpreter on all 256 values. When the scale
 * is the same for every channel (or there is none), the two halves are two 256-entry tables and the kernel is one
 * look-up per output value. With per-channel scales, the tables stop before the Mul (Neg's table, and the Concat's
 * requantization where an input is quantized unlike the output); the Mul is TFLite's MulElementwise with
 * src/quant/params.ts mulParams (the product of the offset operands, requantized and clamped: te_requantize) and the
 * activation its 256-entry table (params.ts unaryLut).
 *
 * Planning: the last node of the chain gets the kernel and, in the graph handed to the planner, reads x and writes
 * the chain's result; the other nodes keep their place in the layer list without inputs, outputs or code, so their
 * tensors get no memory at all.
 */
import { consumers, producers, tensorOf } from '../../ir/graph.js';
import type { ConcatNode, ElementwiseBinaryNode, Graph, Node, UnaryNode } from '../../ir/types.js';
import { mulParams, unaryLut, type UnaryLutNode } from '../../quant/params.js';
import { runReference } from '../../reference/interpreter.js';
import type { KernelCall, Lowering } from '../kernel-call.js';

export interface CReluChain {
  neg: UnaryNode;
  concat: ConcatNode;
  mul: ElementwiseBinaryNode | null;
  activation: UnaryLutNode | null;
  /** The non-negated input and the chain's result. */
  input: string;
  output: string;
  /** Whether x comes first in the Concat (Concat(x, -x)). */
  positiveFirst: boolean;
}

export interface FusedCRelus {
  /** The graph to plan: each chain's last node reads x and writes the result; the others have no inputs or outputs. */
  graph: Graph;
  /** Node index -> its lowering, for every node of every chain. */
  lowerings: Map<number, Lowering>;
  chains: CReluChain[];
}

const ACTIVATIONS = new Set<Node['op']>(['Relu', 'Relu6', 'LeakyRelu', 'Logistic', 'Tanh', 'HardSwish']);

export function fuseCRelus(graph: Graph): FusedCRelus {
  const chains = findCReluChains(graph);
  if (chains.length === 0) return { graph, lowerings: new Map(), chains };
  const indexOf = new Map(graph.nodes.map((node, index) => [node, index]));
  const lowerings = new Map<number, Lowering>();
  const rewritten = new Map<number, Node>();
  for (const chain of chains) {
    const members = [chain.neg, chain.concat, chain.mul, chain.activation].filter((n): n is NonNullable<typeof n> => n !== null);
    const last = members.reduce((a, b) => (indexOf.get(a)! > indexOf.get(b)! ? a : b));
    const lastIndex = indexOf.get(last)!;
    for (const member of members) {
      const index = indexOf.get(member)!;
      if (member === last) {
        lowerings.set(index, lowerCRelu(graph, chain));
        rewritten.set(index, { ...member, inputs: [chain.input], outputs: [chain.output] } as Node);
      } else {
        lowerings.set(index, { noCode: `computed by layer ${lastIndex} (C.ReLU: Neg, Concat, scale and activation in one kernel)` });
        rewritten.set(index, { ...member, inputs: [], outputs: [] } as Node);
      }
    }
  }
  return { graph: { ...graph, nodes: graph.nodes.map((node, index) => rewritten.get(index) ?? node) }, lowerings, chains };
}

export function findCReluChains(graph: Graph): CReluChain[] {
  const producedBy = producers(graph);
  const readers = consumers(graph);
  const graphOutputs = new Set(graph.outputs.map((io) => io.tensor));
  /** The single reader of an internal tensor, or null. */
  const onlyReader = (tensor: string): Node | null => {
    const list = readers.get(tensor) ?? [];
    return list.length === 1 && !graphOutputs.has(tensor) ? list[0]! : null;
  };
  const chains: CReluChain[] = [];
  for (const node of graph.nodes) {
    if (node.op !== 'Concat' || node.inputs.length !== 2) continue;
    const output = tensorOf(graph, node.outputs[0]!);
    const rank = output.shape.length;
    if (rank < 2 || (node.attrs.axis !== rank - 1 && node.attrs.axis !== -1) || !isPerTensorInt8(graph, node.outputs[0]!)) continue;
    const [first, second] = node.inputs as [string, string];
    const negOf = (tensor: string, of: string): UnaryNode | null => {
      const p = producedBy.get(tensor);
      return p?.op === 'Neg' && p.inputs[0] === of && onlyReader(tensor) === node ? p : null;
    };
    const negSecond = negOf(second, first);
    const negFirst = negSecond ? null : negOf(first, second);
    const neg = negSecond ?? negFirst;
    if (!neg) continue;
    const input = neg.inputs[0]!;
    if (!isPerTensorInt8(graph, input) || !isPerTensorInt8(graph, neg.outputs[0]!)) continue;

    let tail = node.outputs[0]!;
    let mul: ElementwiseBinaryNode | null = null;
    const next = onlyReader(tail);
    if (next?.op === 'Mul' && channelConstant(graph, next, tail) !== null && isPerTensorInt8(graph, next.outputs[0]!)) {
      mul = next;
      tail = next.outputs[0]!;
    }
    let activation: UnaryLutNode | null = null;
    const after = onlyReader(tail);
    if (after && ACTIVATIONS.has(after.op) && isPerTensorInt8(graph, after.outputs[0]!)) {
      activation = after as UnaryLutNode;
      tail = after.outputs[0]!;
    }
    chains.push({ neg, concat: node, mul, activation, input, output: tail, positiveFirst: negSecond !== null });
  }
  return chains;
}

/** The Mul's constant operand as one value per channel of `data`'s last axis, or null if it is not such a constant. */
function channelConstant(graph: Graph, mul: Node, data: string): number[] | null {
  if (mul.inputs.length !== 2 || mul.inputs[0] === mul.inputs[1]) return null;
  const other = mul.inputs[mul.inputs[0] === data ? 1 : 0]!;
  const constant = tensorOf(graph, other);
  const dataShape = tensorOf(graph, data).shape;
  const outShape = tensorOf(graph, mul.outputs[0]!).shape;
  if (!constant.data || constant.dtype !== 'int8' || outShape.length !== dataShape.length || outShape.some((d, i) => d !== dataShape[i])) return null;
  const channels = dataShape[dataShape.length - 1]!;
  const shape = constant.shape;
  const leadingOnes = shape.slice(0, -1).every((d) => d === 1) && shape.length <= dataShape.length;
  const last = shape[shape.length - 1] ?? 1;
  if (!leadingOnes || (last !== 1 && last !== channels)) return null;
  return Array.from({ length: channels }, (_, c) => Number(constant.data![last === 1 ? 0 : c]));
}

function isPerTensorInt8(graph: Graph, name: string): boolean {
  const tensor = tensorOf(graph, name);
  return tensor.dtype === 'int8' && tensor.quant !== undefined && tensor.quant.scale.length === 1;
}

export function lowerCRelu(graph: Graph, chain: CReluChain): KernelCall {
  const x = tensorOf(graph, chain.input);
  const channels = x.shape[x.shape.length - 1]!;
  const pixels = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const shape = { pixels, channels, identityPositive: false, activation: false };

  // The whole chain as a function of x, per output channel: with one scale for all channels, two tables say it all.
  const whole = chainColumns(graph, chain, [chain.neg, chain.concat, chain.mul, chain.activation]);
  const [positiveColumn, negativeColumn] = chain.positiveFirst ? [0, channels] : [channels, 0];
  const uniform = (first: number) => whole.slice(first, first + channels).every((column) => column.every((v, i) => v === whole[first]![i]));
  if (uniform(0) && uniform(channels)) {
    return creluCall(chain, { ...shape, mul: false }, [
      { role: 'positive', ctype: 'int8_t', values: whole[positiveColumn]!, describe: 'first half: output for input x at [x + 128]' },
      { role: 'negative', ctype: 'int8_t', values: whole[negativeColumn]!, describe: 'second half: output for input x at [x + 128]' },
    ]);
  }

  // Per-channel scales: the two halves of the Concat by table, then the Mul's arithmetic, then the activation's table.
  const mul = chain.mul!;
  const halves = chainColumns(graph, chain, [chain.neg, chain.concat]);
  const positive = halves[positiveColumn]!;
  const negative = halves[negativeColumn]!;
  const activation = chain.activation ? unaryLut(graph, chain.activation) : null;
  const p = mulParams(graph, mul);
  const concatOutput = chain.concat.outputs[0]!;
  const dataFirst = mul.inputs[0] === concatOutput;
  const scales = channelConstant(graph, mul, concatOutput)!;
  const dataOffset = dataFirst ? p.input1Offset : p.input2Offset;
  const scaleOffset = dataFirst ? p.input2Offset : p.input1Offset;
  const identityPositive = positive.every((v, i) => v === i - 128);
  return creluCall(
    chain,
    {
      ...shape, mul: true, identityPositive, activation: activation !== null,
      dataOffset, multiplier: p.multiplier, shift: p.shift, outputOffset: p.outputOffset, min: p.clamp.min, max: p.clamp.max,
    },
    [
      ...(identityPositive ? [] : [{ role: 'positive', ctype: 'int8_t' as const, values: positive, describe: 'first half before the scale: value for input x at [x + 128]' }]),
      { role: 'negative', ctype: 'int8_t', values: negative, describe: 'second half before the scale: value for input x at [x + 128]' },
      { role: 'scales', ctype: 'int16_t', values: Int16Array.from(scales, (s) => s + scaleOffset), describe: 'offset per-channel scale (s[c] - Z_s)' },
      ...(activation ? [{ role: 'activation', ctype: 'int8_t' as const, values: activation, describe: `${chain.activation!.op} output for input x at [x + 128]` }] : []),
    ],
  );
}

function creluCall(chain: CReluChain, params: Record<string, unknown>, constants: KernelCall['constants']): KernelCall {
  return {
    template: 'te_crelu_s8',
    name: 'te_crelu_s8',
    params: { ...params, positiveFirst: chain.positiveFirst },
    inputs: [chain.input],
    outputs: [chain.output],
    constants,
  };
}

/**
 * What the first nodes of the chain compute from x, per channel of the last one's output: column c is a 256-entry
 * table (index x + 128), from the reference interpreter running those nodes on a tensor that holds every int8 value
 * once per channel.
 */
function chainColumns(graph: Graph, chain: CReluChain, members: (Node | null)[]): Int8Array[] {
  const nodes = members.filter((n): n is Node => n !== null);
  const x = tensorOf(graph, chain.input);
  const channels = x.shape[x.shape.length - 1]!;
  const rank = x.shape.length;
  const probeShape = (c: number) => [...new Array<number>(rank - 2).fill(1), 256, c];
  const tensors = new Map(graph.tensors);
  tensors.set(chain.input, { ...x, shape: probeShape(channels) });
  tensors.set(chain.neg.outputs[0]!, { ...tensorOf(graph, chain.neg.outputs[0]!), shape: probeShape(channels) });
  for (const node of nodes.slice(1)) tensors.set(node.outputs[0]!, { ...tensorOf(graph, node.outputs[0]!), shape: probeShape(2 * channels) });
  const last = nodes[nodes.length - 1]!.outputs[0]!;
  const io = (name: string) => ({ tensor: name, externalDtype: 'int8' as const, name });
  const probe: Graph = { ...graph, tensors, nodes, inputs: [io(chain.input)], outputs: [io(last)], unsupported: [] };
  const values = new Int8Array(256 * channels);
  for (let v = 0; v < 256; v++) values.fill(v - 128, v * channels, (v + 1) * channels);
  const out = runReference(probe, [values]).outputs[0] as Int8Array;
  return Array.from({ length: 2 * channels }, (_, c) => Int8Array.from({ length: 256 }, (_, v) => out[v * 2 * channels + c]!));
}
