/**
 * Stage 1 of a deploy: read the model and what is known about it before anything is generated (its identity,
 * its MACs per layer). A model with ops tinyedge cannot run stops here, with every such op listed.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UnsupportedOpsError } from '../errors.js';
import { loadModel } from '../frontend/index.js';
import { graphCost, type GraphCost } from '../ir/cost.js';
import type { Graph } from '../ir/types.js';
import { optimizeGraph } from '../passes/index.js';

export interface DeployModel {
  /** The file as the user named it. */
  file: string;
  /** The graph as imported: the reference runs it, so validation also checks the optimization passes. */
  graph: Graph;
  /** The graph code generation gets: `graph` after the optimization passes (the same graph with --no-optimize). */
  generated: Graph;
  /** Hex sha-256 of the file (64 digits); the firmware carries its first 16. */
  sha256: string;
  cost: GraphCost;
  /** MACs and parameters per layer of the generated graph: what the device runs. */
  generatedCost: GraphCost;
}

export async function loadDeployModel(file: string, options: { optimize?: boolean } = {}): Promise<DeployModel> {
  const graph = await loadModel(file);
  if (graph.unsupported.length > 0) throw new UnsupportedOpsError(file, graph.unsupported);
  // loadModel read the file already (and may record its hash); reading it again keeps this stage self-sufficient.
  const sha256 = graph.source?.sha256 ?? createHash('sha256').update(await readFile(file)).digest('hex');
  const generated = options.optimize === false ? graph : optimizeGraph(graph).graph;
  return { file, graph, generated, sha256, cost: graphCost(graph), generatedCost: graphCost(generated) };
}

/** The hash the generated library and the firmware's HELLO carry. */
export function firmwareHash(sha256: string): string {
  return sha256.slice(0, 16).toLowerCase();
}
