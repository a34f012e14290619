/**
 * Code generation: the IR becomes a self-contained C99 library (no interpreter, no malloc, no runtime library).
 *
 *   [dsp: fuse residual Adds into their convolutions]  ->  fuse C.ReLU chains (lower/crelu.ts)  ->  lower every node
 *   to a kernel call (src/codegen/lower/, DSP-extension kernels first where the ISA has them)  ->  store sparse
 *   weights compressed (lower/sparse.ts)  ->  place Concat inputs in their output (lower/concat-in-place.ts)  ->  let
 *   kernels write over dying inputs where that lowers the arena (lower/in-place.ts)
 *   ->  plan the arena, scratch and slices included (src/plan/)  ->  render one specialised function per layer
 *   (templates/kernels/), and once each the functions that layers of one form share  ->  render the library
 *   (templates/library/)
 *
 * Pure: returns the files' text; writing them is write.ts's job.
 */
import { readFileSync } from 'node:fs';
import { UnsupportedOpsError, UsageError } from '../errors.js';
import { dtypeBytes, elementCount, tensorOf } from '../ir/graph.js';
import type { Graph, Tensor } from '../ir/types.js';
import { findInPlaceConcats } from '../passes/concat-in-place.js';
import { planArena, type ArenaPlan, type IoPlacement, type PlannedTensor, type PlanOptions, type ScratchRequest, type TensorOverlay, type TensorSlice } from '../plan/index.js';
import type { Isa } from './isa.js';
import { ctypeOf, isKernelCall, type ConstantArray, type CType, type Lowering, type SharedFunction, type WeightStorage } from './kernel-call.js';
import { placeConcatsInPlace } from './lower/concat-in-place.js';
import { placeOutputsInPlace } from './lower/in-place.js';
import { fuseCRelus } from './lower/crelu.js';
import { lowerConv2DDsp, dspConv2DApplies } from './lower/dsp/conv2d.js';
import { fuseResidualAdds, type FusedGraph } from './lower/fuse-residual-add.js';
import { lowerNode } from './lower/index.js';
import { sparsifyWeights } from './lower/sparse.js';
import { commentText, cStringLiteral, isValidPrefix, sanitizePrefix } from './names.js';
import { renderTemplate } from './render.js';

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export interface GenerateOptions {
  /** Library prefix P (tinyedge_P_run); default: the sanitized model name. Must be [a-z][a-z0-9_]*, at most 32. */
  prefix?: string;
  /** sha-256 of the model file in hex (the first 16 digits are kept). */
  modelHash: string;
  /** Graph inputs/outputs in the caller's buffers (default) or copied through the arena (see src/plan). */
  io?: IoPlacement;
  /** Kernel family: 'portable' C (default; the host build) or 'dsp' for cores with the DSP extension (src/codegen/isa.ts). */
  isa?: Isa;
  /** Write Concat inputs in place where the passes' analysis allows it (default true; false: copy, for comparison). */
  zeroCopyConcat?: boolean;
  /** Store mostly-zero weights compressed with a zero-skipping kernel where it pays (default true). */
  sparseWeights?: boolean;
  /** Compute C.ReLU chains (Concat(x, Neg(x)) -> scale -> activation) with one fused kernel (default true). */
  fuseCRelu?: boolean;
  /** Let kernels write their output over a dying input where that lowers the arena (default true; lower/in-place.ts). */
  inPlace?: boolean;
}

export interface LayerInfo {
  index: number;
  /** Node name from the model. */
  name: string;
  op: string;
  /** Generated function (`te_conv2d_s8_l3`), null for a layer without code (Reshape). */
  function: string | null;
  kernel: string | null;
  scratchBytes: number;
  /** Weighted layers: the weight format chosen and its bytes. */
  weights?: WeightStorage;
  /** A layer without code: why (a Reshape alias, a Concat written in place, a node computed by a fused kernel). */
  noCode?: string;
  /** The input tensor whose bytes the layer's output overwrites (an in-place kernel). */
  inPlaceOver?: string;
}

export interface GeneratedLibrary {
  /** P in tinyedge_P_run. */
  prefix: string;
  /** File name -> content. */
  files: Map<string, string>;
  plan: ArenaPlan;
  /** The graph the plan was made for (fusions applied) and its options, to plan it again differently (the report). */
  planned: { graph: Graph; options: PlanOptions };
  layers: LayerInfo[];
  /** Bytes of constant data (weights, biases, requantization constants, tables). */
  constantBytes: number;
}

/** The generated files' names for library prefix P. */
export function libraryFileNames(prefix: string) {
  return {
    header: `tinyedge_${prefix}.h`,
    model: `tinyedge_${prefix}.c`,
    weights: `tinyedge_${prefix}_weights.c`,
    weightsHeader: `tinyedge_${prefix}_weights.h`,
    types: 'tinyedge_types.h',
    readme: 'README.md',
  };
}

export function generateLibrary(graph: Graph, options: GenerateOptions): GeneratedLibrary {
  if (graph.unsupported.length > 0) throw new UnsupportedOpsError(graph.name, graph.unsupported);
  const prefix = options.prefix ?? sanitizePrefix(graph.name);
  if (!isValidPrefix(prefix)) {
    throw new UsageError(`library prefix '${prefix}' must be lower-case letters, digits and single underscores, starting with a letter, at most 32 characters`);
  }
  if (!/^[0-9a-f]{16,}$/i.test(options.modelHash)) throw new Error(`model hash '${options.modelHash}' is not a hex sha-256`);
  const hash = options.modelHash.slice(0, 16).toLowerCase();
  const symbolPrefix = `tinyedge_${prefix}`;

  const isa = options.isa ?? 'portable';
  const fused = isa === 'dsp' ? fuseResidualAdds(graph, (conv) => dspConv2DApplies(graph, conv)) : unfused(graph);
  const crelu = options.fuseCRelu === false ? { graph: fused.graph, lowerings: new Map<number, Lowering>() } : fuseCRelus(fused.graph);
  const planGraph = crelu.graph;
  const lowered: Lowering[] = graph.nodes.map(
    (node, index) => lowerFused(graph, fused, index) ?? crelu.lowerings.get(index) ?? lowerNode(graph, node, { isa }),
  );
  const compressed = options.sparseWeights === false ? lowered : lowered.map(sparsifyWeights);
  const io = options.io ?? 'caller';
  const planOptions = (of: readonly Lowering[], slices: readonly TensorSlice[], overlays: readonly TensorOverlay[]): PlanOptions => ({
    scratch: scratchRequests(of),
    slices,
    overlays,
    io,
  });
  const inPlaceConcats =
    options.zeroCopyConcat === false
      ? { lowerings: compressed, slices: [] }
      : placeConcatsInPlace(planGraph, compressed, findInPlaceConcats(planGraph), (slices) => planArena(planGraph, planOptions(compressed, slices, [])).arenaBytes);
  const slices = inPlaceConcats.slices;
  const inPlace =
    options.inPlace === false
      ? { lowerings: inPlaceConcats.lowerings, overlays: [] }
      : placeOutputsInPlace(planGraph, inPlaceConcats.lowerings, slices, io, (of, overlays) => planArena(planGraph, planOptions(of, slices, overlays)).arenaBytes);
  const lowerings = inPlace.lowerings;
  const finalOptions = planOptions(lowerings, slices, inPlace.overlays);
  const plan = planArena(planGraph, finalOptions);

  const constants = new ConstantTable(symbolPrefix);
  const refs = new TensorRefs(planGraph, plan, constants);
  const layers: LayerInfo[] = [];
  const shared = new SharedFunctions();
  const kernels: string[] = [];
  const layerViews = graph.nodes.map((node, index) => {
    const lowering = lowerings[index]!;
    const comment = `'${commentText(node.name, 60)}'`;
    if (!isKernelCall(lowering)) {
      layers.push({ index, name: node.name, op: node.op, function: null, kernel: null, scratchBytes: 0, noCode: lowering.noCode });
      return { index, op: node.op, comment, call: false, noCodeReason: lowering.noCode };
    }
    const fn = `${lowering.name}_l${index}`;
    const sym = Object.fromEntries(lowering.constants.map((c) => [c.role, constants.addLayerArray(index, c)]));
    for (const fn of lowering.shared ?? []) {
      const text = shared.render(fn);
      if (text !== null) kernels.push(text);
    }
    kernels.push(renderTemplate(`kernels/${lowering.template}.c.hbs`, { ...lowering.params, fn, layer: index, sym }).trimEnd());
    const planned = plan.scratch.find((s) => s.node === index);
    const args = [
      ...lowering.inputs.map((t) => refs.of(t)),
      ...lowering.outputs.map((t) => refs.of(t)),
      ...(planned ? [refs.arenaBytes(planned.offset)] : []),
    ];
    const overlay = inPlace.overlays.find((o) => lowering.outputs.includes(o.output));
    layers.push({
      index, name: node.name, op: node.op, function: fn, kernel: lowering.name, scratchBytes: planned?.bytes ?? 0,
      ...(lowering.weights ? { weights: lowering.weights } : {}),
      ...(overlay ? { inPlaceOver: overlay.input } : {}),
    });
    return { index, op: node.op, comment, call: { fn, args }, noCodeReason: '' };
  });

  const copies = plan.copies.map((copy) => ({
    index: copy.index,
    bytes: copy.bytes,
    to: copy.direction === 'in' ? refs.ofBytes(copy.tensor) : refs.callerOutputBytes(copy.index),
    from: copy.direction === 'in' ? refs.callerInputBytes(copy.index) : refs.ofBytes(copy.tensor),
  }));
  const copiesIn = copies.filter((_, i) => plan.copies[i]!.direction === 'in');
  const copiesOut = copies.filter((_, i) => plan.copies[i]!.direction === 'out');

  const files = libraryFileNames(prefix);
  const arenaWordType = plan.alignment > 4 ? 'uint64_t' : 'uint32_t';
  const wordBytes = plan.alignment > 4 ? 8 : 4;
  const banner = { version: PACKAGE.version, modelComment: commentText(graph.name), hash };
  const boundary = (io: Graph['inputs'][number]) => boundaryView(tensorOf(graph, io.tensor), io.name);
  const common = {
    banner,
    files,
    version: PACKAGE.version,
    modelComment: commentText(graph.name),
    hash,
    prefix: symbolPrefix,
    PREFIX: symbolPrefix.toUpperCase(),
    arenaBytes: plan.arenaBytes,
    arenaWordType,
    arenaStorageBytes: Math.max(wordBytes, Math.ceil(plan.arenaBytes / wordBytes) * wordBytes),
    layerCount: graph.nodes.length,
    inputs: graph.inputs.map(boundary),
    outputs: graph.outputs.map(boundary),
  };
  const arrays = constants.arrays();
  const inputBytes = graph.inputs.map((io) => tensorBytes(tensorOf(graph, io.tensor)));
  const outputBytes = graph.outputs.map((io) => tensorBytes(tensorOf(graph, io.tensor)));

  const checkRanges = writeRanges(plan, planGraph);
  const model = renderTemplate('library/model.c.hbs', {
    ...common,
    planOrder: plan.order,
    fixedpoint:
      (isa === 'dsp' ? renderTemplate('kernels/dsp/te_dsp_support.c.hbs', {}) : '') +
      renderTemplate('kernels/te_fixedpoint.c.hbs', {
        reciprocal: lowerings.some((l) => isKernelCall(l) && l.usesReciprocal === true),
      }),
    hasCopies: copies.length > 0,
    arenaUsed: refs.arenaUsed,
    kernels,
    layers: layerViews,
    copiesIn,
    copiesOut,
    inputBytesLength: Math.max(1, inputBytes.length),
    outputBytesLength: Math.max(1, outputBytes.length),
    layerCountStorage: Math.max(1, graph.nodes.length),
    info: {
      name: cStringLiteral(graph.name),
      hash: cStringLiteral(hash),
      inputCount: graph.inputs.length,
      outputCount: graph.outputs.length,
      inputBytes: inputBytes.length > 0 ? inputBytes : [0],
      outputBytes: outputBytes.length > 0 ? outputBytes : [0],
      layerCount: graph.nodes.length,
      layerNames: graph.nodes.length > 0 ? graph.nodes.map((n) => cStringLiteral(n.name)) : ['0'],
      layerOps: graph.nodes.length > 0 ? graph.nodes.map((n) => cStringLiteral(n.op)) : ['0'],
    },
    checkRanges,
    checkRangeStorage: Math.max(1, checkRanges.length),
  });

  const output = new Map<string, string>([
    [files.types, renderTemplate('library/tinyedge_types.h.hbs', { version: PACKAGE.version })],
    [files.header, renderTemplate('library/model.h.hbs', common)],
    [files.model, model],
    [files.weightsHeader, renderTemplate('library/weights.h.hbs', { ...common, arrays })],
    [files.weights, renderTemplate('library/weights.c.hbs', { ...common, arrays })],
    [files.readme, renderTemplate('library/README.md.hbs', { ...common, weightBytes: constants.bytes() })],
  ]);
  return { prefix, files: output, plan, planned: { graph: planGraph, options: finalOptions }, layers, constantBytes: constants.bytes() };
}

/**
 * The functions layers share, each rendered once, before the first layer that calls it. Two layers asking for one
 * key with different parameters would silently run the first one's code: that is a lowering bug, so it throws.
 */
class SharedFunctions {
  private readonly rendered = new Map<string, string>();

  /** The function's text the first time its key is seen, null after. */
  render(fn: SharedFunction): string | null {
    const params = JSON.stringify({ template: fn.template, params: fn.params });
    const seen = this.rendered.get(fn.key);
    if (seen !== undefined) {
      if (seen !== params) throw new Error(`shared kernel function '${fn.key}' requested with different parameters`);
      return null;
    }
    this.rendered.set(fn.key, params);
    return renderTemplate(`kernels/${fn.template}.c.hbs`, { ...fn.params, key: fn.key }).trimEnd();
  }
}

function scratchRequests(lowerings: readonly Lowering[]): ScratchRequest[] {
  const scratch: ScratchRequest[] = [];
  lowerings.forEach((l, node) => {
    if (isKernelCall(l) && l.scratch) scratch.push({ node, bytes: l.scratch.bytes, purpose: l.scratch.purpose });
  });
  return scratch;
}

function unfused(graph: Graph): FusedGraph {
  return { graph, residuals: new Map(), fusedAdds: new Map() };
}

/** The lowering of a node that fusion changed: a convolution with its Add, or the Add it absorbed. */
function lowerFused(graph: Graph, fused: FusedGraph, index: number): Lowering | null {
  const residual = fused.residuals.get(index);
  if (residual) return lowerConv2DDsp(graph, graph.nodes[index] as Parameters<typeof lowerConv2DDsp>[1], residual);
  const conv = fused.fusedAdds.get(index);
  if (conv !== undefined) return { noCode: `computed by layer ${conv} in its output loop (residual Add fused into the convolution)` };
  return null;
}

function tensorBytes(tensor: Tensor): number {
  return elementCount(tensor.shape) * dtypeBytes(tensor.dtype);
}

function boundaryView(tensor: Tensor, name: string) {
  const quant = tensor.quant && tensor.quant.scale.length === 1 ? { scale: tensor.quant.scale[0]!, zeroPoint: tensor.quant.zeroPoint[0]! } : false;
  return { comment: commentText(name, 40), shape: `[${tensor.shape.join(',')}]`, dtype: tensor.dtype, bytes: tensorBytes(tensor), quant };
}

/** Per layer, the arena bytes it may write: its outputs that live in the arena and its scratch. */
function writeRanges(plan: ArenaPlan, graph: Graph): { layer: number; offset: number; bytes: number }[] {
  const byName = new Map(plan.tensors.map((t) => [t.name, t]));
  const ranges: { layer: number; offset: number; bytes: number }[] = [];
  graph.nodes.forEach((node, layer) => {
    if (node.op === 'Reshape') return; // an alias: writes nothing
    for (const out of node.outputs) {
      const t = byName.get(out);
      if (t && t.buffer === 'arena' && t.bytes > 0) ranges.push({ layer, offset: t.offset, bytes: t.extentBytes ?? t.bytes });
    }
    for (const s of plan.scratch) if (s.node === layer) ranges.push({ layer, offset: s.offset, bytes: s.bytes });
  });
  return ranges;
}

/** A tensor as the tensor_ref partial renders it. */
interface RefView {
  arena: boolean;
  input: boolean;
  output: boolean;
  constant: boolean;
  cast: boolean;
  ctype: CType;
  offset: number;
  index: number;
  symbol: string;
}

const NO_REF: RefView = { arena: false, input: false, output: false, constant: false, cast: false, ctype: 'int8_t', offset: 0, index: 0, symbol: '' };

/** Where each tensor is at run time, as C expressions' ingredients. */
class TensorRefs {
  private readonly planned: Map<string, PlannedTensor>;
  /** Whether any reference points into the arena (an unused static arena would not compile warning-free). */
  arenaUsed = false;

  constructor(
    private readonly graph: Graph,
    plan: ArenaPlan,
    private readonly constants: ConstantTable,
  ) {
    this.planned = new Map(plan.tensors.map((t) => [t.name, t]));
  }

  /** The tensor typed as its own dtype (`int8_t *`, `int32_t *`, `float *`). */
  of(name: string): RefView {
    const tensor = tensorOf(this.graph, name);
    return this.located(name, ctypeOf(tensor.dtype));
  }

  /** The tensor as raw bytes (`int8_t *`), for boundary copies. */
  ofBytes(name: string): RefView {
    return this.located(name, 'int8_t');
  }

  arenaBytes(offset: number): RefView {
    this.arenaUsed = true;
    return { ...NO_REF, arena: true, offset };
  }

  callerInputBytes(index: number): RefView {
    return { ...NO_REF, input: true, index };
  }

  callerOutputBytes(index: number): RefView {
    return { ...NO_REF, output: true, index };
  }

  private located(name: string, ctype: CType): RefView {
    const planned = this.planned.get(name);
    const cast = ctype !== 'int8_t';
    if (!planned || planned.buffer === 'constant') {
      const tensor = tensorOf(this.graph, this.rootConstant(name));
      const symbol = this.constants.addTensor(tensor);
      // A constant array has its own element type: a byte view of it needs the cast the typed view does not.
      return { ...NO_REF, constant: true, symbol, ctype, cast: ctype !== ctypeOf(tensor.dtype) };
    }
    switch (planned.buffer) {
      case 'arena':
        this.arenaUsed = true;
        return { ...NO_REF, arena: true, offset: planned.offset, ctype, cast };
      case 'input':
        return { ...NO_REF, input: true, index: planned.ioIndex!, ctype, cast };
      case 'output':
        return { ...NO_REF, output: true, index: planned.ioIndex!, ctype, cast };
    }
  }

  /** A Reshape of a constant reads the constant's own data. */
  private rootConstant(name: string): string {
    let current = name;
    for (;;) {
      const tensor = tensorOf(this.graph, current);
      if (tensor.data) return current;
      const producer = this.graph.nodes.find((n) => n.op === 'Reshape' && n.outputs[0] === current);
      if (!producer) throw new Error(`tensor '${name}' has no storage (neither planned nor constant)`);
      current = producer.inputs[0]!;
    }
  }
}

interface ArrayView {
  symbol: string;
  ctype: CType;
  length: number;
  values: ArrayLike<number>;
  float: boolean;
  perLine: number;
  comment: string;
}

/** Every constant array of the library, with its C symbol. */
class ConstantTable {
  private readonly list: ArrayView[] = [];
  private readonly tensorSymbols = new Map<string, string>();

  constructor(private readonly symbolPrefix: string) {}

  addLayerArray(layer: number, array: ConstantArray): string {
    const symbol = `${this.symbolPrefix}_l${layer}_${array.role.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
    this.push(symbol, array.ctype, array.values, `layer ${layer}: ${commentText(array.describe)}`);
    return symbol;
  }

  /** A constant tensor read directly as a kernel operand (an Add with a constant, a constant output). */
  addTensor(tensor: Tensor): string {
    const existing = this.tensorSymbols.get(tensor.name);
    if (existing) return existing;
    const symbol = `${this.symbolPrefix}_constant${this.tensorSymbols.size}`;
    this.tensorSymbols.set(tensor.name, symbol);
    const values = tensor.data instanceof BigInt64Array ? Array.from(tensor.data, Number) : tensor.data!;
    this.push(symbol, ctypeOf(tensor.dtype), values, `constant tensor '${commentText(tensor.name, 60)}' [${tensor.shape}] ${tensor.dtype}`);
    return symbol;
  }

  arrays(): ArrayView[] {
    return this.list;
  }

  bytes(): number {
    return this.list.reduce((sum, a) => sum + a.values.length * ctypeBytes(a.ctype), 0);
  }

  private push(symbol: string, ctype: CType, values: ArrayLike<number>, comment: string): void {
    // C has no empty arrays; a zero-length constant keeps one unused element.
    const stored = values.length > 0 ? values : [0];
    const perLine = ctype === 'int32_t' ? 8 : 16;
    this.list.push({ symbol, ctype, length: stored.length, values: stored, float: ctype === 'float', perLine, comment });
  }
}

function ctypeBytes(ctype: CType): number {
  return ctype === 'int8_t' || ctype === 'uint8_t' ? 1 : ctype === 'int16_t' || ctype === 'uint16_t' ? 2 : 4;
}
