/**
 * Copy-on-write editing of a Graph for the passes. A pass never mutates the graph it is given: the edit starts from
 * shallow copies of the node list, the tensor map and the graph inputs/outputs, and every node or tensor it changes is
 * replaced by a new object. Unchanged nodes, tensors and constant data are shared with the input graph.
 */
import { tensorOf } from '../ir/graph.js';
import type { Graph, GraphIO, Node, Tensor } from '../ir/types.js';

/** What every pass returns: the rewritten graph (the input itself when nothing changed) and one line per change. */
export interface PassResult {
  graph: Graph;
  changes: string[];
}

export type Pass = (graph: Graph) => PassResult;

export class GraphEdit {
  private readonly tensors: Map<string, Tensor>;
  private nodes: Node[];
  private readonly inputs: GraphIO[];
  private outputs: GraphIO[];
  private readonly changes: string[] = [];

  constructor(private readonly source: Graph) {
    this.tensors = new Map(source.tensors);
    this.nodes = [...source.nodes];
    this.inputs = source.inputs.map((io) => ({ ...io }));
    this.outputs = source.outputs.map((io) => ({ ...io }));
  }

  /** The graph as edited so far, for read-only queries (it shares this edit's collections). */
  get graph(): Graph {
    return { ...this.source, tensors: this.tensors, nodes: this.nodes, inputs: this.inputs, outputs: this.outputs };
  }

  get nodeList(): readonly Node[] {
    return this.nodes;
  }

  tensor(name: string): Tensor {
    return tensorOf(this.graph, name);
  }

  /** Put `tensor` under its name, replacing any tensor of that name. */
  setTensor(tensor: Tensor): void {
    this.tensors.set(tensor.name, tensor);
  }

  /** A tensor name not used yet, made from `base`. */
  uniqueTensorName(base: string): string {
    let name = base;
    for (let n = 1; this.tensors.has(name); n++) name = `${base}_${n}`;
    return name;
  }

  /** The node writing `tensor` (undefined for graph inputs and constants). */
  producer(tensor: string): Node | undefined {
    return this.nodes.find((node) => node.outputs.includes(tensor));
  }

  /** The nodes reading `tensor`, in execution order, each once. */
  consumers(tensor: string): Node[] {
    return this.nodes.filter((node) => node.inputs.includes(tensor));
  }

  isGraphOutput(tensor: string): boolean {
    return this.outputs.some((io) => io.tensor === tensor);
  }

  isGraphInput(tensor: string): boolean {
    return this.inputs.some((io) => io.tensor === tensor);
  }

  /** An activation that a node writes and no graph input/output names: free to disappear or change shape. */
  isInternal(tensor: string): boolean {
    return !this.isGraphOutput(tensor) && !this.isGraphInput(tensor) && this.producer(tensor) !== undefined;
  }

  /** The current version of the node called `name` (an earlier rewrite may have replaced the object). */
  node(name: string): Node | undefined {
    return this.nodes.find((node) => node.name === name);
  }

  /** Replace the node called `old.name` (names are unique in a valid graph). */
  replaceNode(old: Node, replacement: Node): void {
    const index = this.indexOf(old);
    this.nodes = this.nodes.map((node, i) => (i === index ? replacement : node));
  }

  /** Replace a run of nodes by `replacement`, placed where the last of them was. */
  replaceNodes(old: readonly Node[], replacement: Node): void {
    const last = old[old.length - 1]!;
    this.replaceNode(last, replacement);
    for (const node of old.slice(0, -1)) this.removeNode(node);
  }

  removeNode(node: Node): void {
    const index = this.indexOf(node);
    this.nodes = this.nodes.filter((_, i) => i !== index);
  }

  private indexOf(node: Node): number {
    const index = this.nodes.findIndex((n) => n.name === node.name);
    if (index < 0) throw new Error(`internal: node '${node.name}' is not in the graph being edited`);
    return index;
  }

  /** Every node input and graph output that reads `from` reads `to` instead. */
  renameUses(from: string, to: string): void {
    this.nodes = this.nodes.map((node) =>
      node.inputs.includes(from) ? ({ ...node, inputs: node.inputs.map((name) => (name === from ? to : name)) } as Node) : node,
    );
    this.outputs = this.outputs.map((io) => (io.tensor === from ? { ...io, tensor: to } : io));
  }

  setGraphInput(index: number, io: GraphIO): void {
    this.inputs[index] = io;
  }

  setGraphOutput(index: number, io: GraphIO): void {
    this.outputs = this.outputs.map((old, i) => (i === index ? io : old));
  }

  get graphInputs(): readonly GraphIO[] {
    return this.inputs;
  }

  get graphOutputs(): readonly GraphIO[] {
    return this.outputs;
  }

  note(change: string): void {
    this.changes.push(change);
  }

  get changed(): boolean {
    return this.changes.length > 0;
  }

  /**
   * The result: the input graph itself when nothing changed, otherwise the edited graph without the tensors that no
   * node and no graph input/output refers to any more.
   */
  result(): PassResult {
    if (!this.changed) return { graph: this.source, changes: [] };
    const referenced = new Set<string>();
    for (const node of this.nodes) for (const name of [...node.inputs, ...node.outputs]) if (name) referenced.add(name);
    for (const io of [...this.inputs, ...this.outputs]) referenced.add(io.tensor);
    const tensors = new Map([...this.tensors].filter(([name]) => referenced.has(name)));
    return {
      graph: { ...this.source, tensors, nodes: this.nodes, inputs: this.inputs, outputs: this.outputs, unsupported: [...this.source.unsupported] },
      changes: [...this.changes],
    };
  }
}

/**
 * Make `node`'s readers (and a graph output) read its input 0 instead, and remove it: for a node whose output equals
 * its input element for element, with the same type and quantization. Refused (false) when that would turn a graph
 * output into a graph input, a constant or another graph output, which the generated library's buffers cannot express.
 */
export function bypassNode(edit: GraphEdit, node: Node): boolean {
  const input = node.inputs[0]!;
  const output = node.outputs[0]!;
  if (edit.isGraphOutput(output) && !edit.isInternal(input)) return false;
  edit.removeNode(node);
  edit.renameUses(output, input);
  return true;
}

/** Same scales and zero points (both absent counts as the same). */
export function sameQuantization(a: Tensor, b: Tensor): boolean {
  const qa = a.quant;
  const qb = b.quant;
  if (!qa || !qb) return !qa && !qb;
  return (
    qa.scale.length === qb.scale.length &&
    qa.scale.every((s, i) => Math.fround(s) === Math.fround(qb.scale[i]!)) &&
    qa.zeroPoint.every((z, i) => z === qb.zeroPoint[i]) &&
    (qa.scale.length === 1 || qa.axis === qb.axis)
  );
}
