/**
 * The optimization passes between the frontends and code generation: a named list of small rewrites, run in order,
 * each a pure function (graph) => { graph, changes } that keeps every graph output bit-identical with the reference
 * interpreter (each file's header says why). The graph is checked with validateGraph after every pass.
 *
 *   remove-dead-nodes -> remove-no-op-ops -> simplify-movement -> [fold-io-transposes] -> fuse-activation
 *   -> fold-pad-into-conv -> depthwise-as-conv -> fold-channel-shuffle -> fold-movement-into-fully-connected -> remove-pruned-channels
 *   -> schedule-for-memory
 *
 * Then two analyses of the result, which change nothing: weight sparsity per layer (sparsity.ts) and the Concats
 * whose inputs can be written in place (concat-in-place.ts).
 */
import { validateGraph } from '../ir/validate.js';
import type { Graph, Node } from '../ir/types.js';
import { findInPlaceConcats } from './concat-in-place.js';
import { foldChannelShuffle } from './fold-channel-shuffle.js';
import { foldIoTransposes } from './fold-io-transposes.js';
import { foldMovementIntoFullyConnected } from './fold-movement-into-fully-connected.js';
import { foldPadIntoConv } from './fold-pad-into-conv.js';
import { depthwiseAsConv } from './depthwise-as-conv.js';
import { fuseActivation } from './fuse-activation.js';
import type { Pass, PassResult } from './graph-edit.js';
import { removeDeadNodes } from './remove-dead-nodes.js';
import { removeNoOpOps } from './remove-no-op-ops.js';
import { removePrunedChannels, type PruningResult, type PruningSummary } from './remove-pruned-channels.js';
import { scheduleForMemory } from './schedule-for-memory.js';
import { simplifyMovement } from './simplify-movement.js';
import { analyzeSparsity, type SparsityReport } from './sparsity.js';

export type { Pass, PassResult } from './graph-edit.js';
export type { PrunedChannels, PruningSummary } from './remove-pruned-channels.js';
export type { LayerSparsity, SparsityReport } from './sparsity.js';
export { analyzeSparsity } from './sparsity.js';
export { findInPlaceConcats } from './concat-in-place.js';

/** The pipeline, in order. `optional` passes run only when asked for. */
export const PASSES = [
  { name: 'remove-dead-nodes', run: removeDeadNodes },
  { name: 'remove-no-op-ops', run: removeNoOpOps },
  { name: 'simplify-movement', run: simplifyMovement },
  { name: 'fold-io-transposes', run: foldIoTransposes, optional: true },
  { name: 'fuse-activation', run: fuseActivation },
  { name: 'fold-pad-into-conv', run: foldPadIntoConv },
  { name: 'depthwise-as-conv', run: depthwiseAsConv },
  { name: 'fold-channel-shuffle', run: foldChannelShuffle },
  { name: 'fold-movement-into-fully-connected', run: foldMovementIntoFullyConnected },
  { name: 'remove-pruned-channels', run: removePrunedChannels },
  { name: 'schedule-for-memory', run: scheduleForMemory },
] as const satisfies readonly { name: string; run: Pass; optional?: true }[];

export type PassName = (typeof PASSES)[number]['name'];

export interface OptimizeOptions {
  /** Run only these passes (still in pipeline order); default: every pass that is not optional. */
  passes?: readonly PassName[];
  /** Leave these out. */
  skip?: readonly PassName[];
  /**
   * Also run fold-io-transposes: NCHW graph inputs/outputs become NHWC with GraphIO.layout = 'NCHW', and the caller
   * must permute (see that field). Default false: the graph keeps its user-facing layout.
   */
  foldIoTransposes?: boolean;
  /** validateGraph before the first pass and after each one (default true). */
  validate?: boolean;
}

export interface PassLogEntry {
  pass: PassName;
  /** One line per rewrite; empty when the pass found nothing to do. */
  changes: string[];
  nodesBefore: number;
  nodesAfter: number;
}

export interface OptimizeResult {
  graph: Graph;
  log: PassLogEntry[];
  /** What remove-pruned-channels removed and the MACs / parameter bytes before and after it; null if it did not run. */
  pruning: PruningSummary | null;
  /** Weight sparsity per layer of the optimized graph. */
  sparsity: SparsityReport;
  /** Names of the Concat nodes whose inputs can be written in place (see concat-in-place.ts). */
  concatInPlace: Set<string>;
}

export function optimizeGraph(graph: Graph, options: OptimizeOptions = {}): OptimizeResult {
  const validate = options.validate ?? true;
  const enabled = (name: PassName, optional: boolean): boolean => {
    if (options.skip?.includes(name)) return false;
    if (options.passes) return options.passes.includes(name);
    return !optional || (name === 'fold-io-transposes' && options.foldIoTransposes === true);
  };
  const selected = PASSES.filter((pass) => enabled(pass.name, 'optional' in pass));
  const log: PassLogEntry[] = [];
  let pruning: PruningSummary | null = null;
  let current = graph;
  // A graph with unsupported ops cannot run, so there is no behaviour to preserve or check: it is analysed as it is.
  if (graph.unsupported.length === 0) {
    if (validate) validateGraph(current);
    for (const pass of selected) {
      const result: PassResult = pass.run(current);
      if (pass.name === 'remove-pruned-channels') pruning = (result as PruningResult).summary;
      if (validate && result.graph !== current) checkPassOutput(pass.name, result.graph);
      log.push({ pass: pass.name, changes: result.changes, nodesBefore: current.nodes.length, nodesAfter: result.graph.nodes.length });
      current = result.graph;
    }
  }
  return { graph: current, log, pruning, sparsity: analyzeSparsity(current), concatInPlace: findInPlaceConcats(current) };
}

/** A pass that breaks the IR is a tinyedge bug, reported as such (not as a problem of the user's model). */
function checkPassOutput(pass: string, graph: Graph): void {
  try {
    validateGraph(graph);
  } catch (error) {
    throw new Error(`internal: pass '${pass}' produced an invalid graph: ${(error as Error).message}`, { cause: error });
  }
}
