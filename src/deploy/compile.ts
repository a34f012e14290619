/**
 * Stage 2: the model becomes a C library (src/codegen) and the description the firmware harness is built around.
 * Pure: no files are written here.
 */
import { generateLibrary, type GeneratedLibrary } from '../codegen/index.js';
import { isaForTarget } from '../codegen/isa.js';
import type { Target } from '../targets/index.js';
import type { FirmwareModel } from '../build/firmware.js';
import { dtypeBytes, elementCount, tensorOf } from '../ir/graph.js';
import type { Graph } from '../ir/types.js';

/** Rewrites the generated files before they are built: a seam for fault-injection tests and experiments. */
export type LibraryPatch = (files: Map<string, string>) => Map<string, string>;

export interface CompiledModel {
  library: GeneratedLibrary;
  firmwareModel: FirmwareModel;
  /** Bytes of each graph input and output at the device boundary (IR dtypes), in graph order. */
  inputBytes: number[];
  outputBytes: number[];
}

/** The kernels are chosen for `target`'s core: DSP (SIMD) kernels where it has the extension, portable C otherwise. */
export function compileModel(graph: Graph, sha256: string, target: Pick<Target, 'dsp'>, patch?: LibraryPatch): CompiledModel {
  const generated = generateLibrary(graph, { modelHash: sha256, isa: isaForTarget(target) });
  const library = patch ? { ...generated, files: patch(new Map(generated.files)) } : generated;
  const bytesOf = (tensor: string) => {
    const t = tensorOf(graph, tensor);
    return elementCount(t.shape) * dtypeBytes(t.dtype);
  };
  const inputBytes = graph.inputs.map((io) => bytesOf(io.tensor));
  const outputBytes = graph.outputs.map((io) => bytesOf(io.tensor));
  return {
    library,
    firmwareModel: { prefix: library.prefix, inputBytes, outputBytes, layerCount: graph.nodes.length },
    inputBytes,
    outputBytes,
  };
}
