/**
 * The engines `tinyedge run --engine NAME` can run a graph on. Each takes and returns IR tensors in graph.inputs /
 * graph.outputs order (int8 for quantized tensors); the boundary conversion is done by the caller (src/io).
 * Adding an engine ('host': generated C compiled with gcc, 'device': firmware on a board) is one entry here.
 */
import type { Graph, TensorData } from '../ir/types.js';
import { runOnHost } from '../build/host.js';
import { optimizeGraph } from '../passes/index.js';
import { runReference } from '../reference/interpreter.js';

export interface Engine {
  describe: string;
  run(graph: Graph, inputs: TensorData[]): Promise<TensorData[]>;
}

export const ENGINES = {
  reference: {
    describe: 'the TypeScript reference interpreter (TFLite-Micro integer arithmetic)',
    run: async (graph, inputs) => runReference(graph, inputs).outputs,
  },
  host: {
    describe: "the generated C library, compiled with the host's gcc and run natively",
    // The optimized graph, as code generation gets it everywhere: what the host runs is what a board would run.
    run: async (graph, inputs) => runOnHost(optimizeGraph(graph).graph, inputs, { modelHash: graph.source?.sha256 }),
  },
} satisfies Record<string, Engine>;

export type EngineName = keyof typeof ENGINES;

export const ENGINE_NAMES = Object.keys(ENGINES) as EngineName[];
