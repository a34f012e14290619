/**
 * `tinyedge run MODEL --input FILE ... [--engine reference] [--output FILE.npy [--force]] [--json]`:
 * one inference on the user's inputs; outputs in their external dtype.
 */
import { extname } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { InputError, UnsupportedOpsError, UsageError } from '../../errors.js';
import { loadModel } from '../../frontend/index.js';
import type { Graph } from '../../ir/types.js';
import { readInputFile } from '../../io/input-files.js';
import { describeType, toNumbers, type NdArray } from '../../io/ndarray.js';
import { encodeNpy } from '../../io/npy.js';
import { assertWritable, outputPaths, writeFileAtomic } from '../../io/output-files.js';
import { inputToIR, outputFromIR } from '../../io/tensors.js';
import { ENGINES, ENGINE_NAMES, type EngineName } from '../engines.js';

interface RunArgs {
  model: string;
  input: string[];
  engine: EngineName;
  output?: string;
  force: boolean;
  json: boolean;
}

/** Human output prints at most this many values of an output; --json and --output carry all of them. */
const PRINTED_VALUES = 64;

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <model>',
  describe: 'Run one inference on the given inputs and print (or save) the outputs',
  // The cast: yargs types --engine as any string, where `choices` holds it to the engine names.
  builder: (yargs: Argv) =>
    yargs
      .positional('model', { type: 'string', demandOption: true, describe: 'TFLite (.tflite) or ONNX (.onnx) model file' })
      .option('input', {
        alias: 'i',
        type: 'string',
        demandOption: true,
        requiresArg: true,
        describe: 'Input file (.npy, .bin or .json); repeat for each model input, in the model\'s input order',
        coerce: (value: string | string[]) => ([] as string[]).concat(value),
      })
      .option('engine', { type: 'string', choices: ENGINE_NAMES, default: 'reference', describe: 'What runs the model' })
      .option('output', {
        alias: 'o',
        type: 'string',
        requiresArg: true,
        describe: 'Write the outputs as .npy (FILE.npy, then FILE.1.npy, ...)',
      })
      .option('force', { type: 'boolean', default: false, describe: 'Overwrite existing --output files' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the outputs as JSON on stdout' }) as unknown as Argv<RunArgs>,
  handler: async (args) => {
    if (args.output !== undefined && extname(args.output).toLowerCase() !== '.npy') {
      throw new UsageError(`--output ${args.output}: only .npy output files are written`);
    }
    const graph = await loadModel(args.model);
    if (graph.unsupported.length > 0) throw new UnsupportedOpsError(args.model, graph.unsupported);
    // Checked before the run, so no run is wasted on output files that cannot be written.
    const outputFiles = args.output === undefined ? [] : outputPaths(args.output, graph.outputs.length);
    await assertWritable(outputFiles, args.force);
    const inputs = await readInputs(graph, args.input);

    const irOutputs = await ENGINES[args.engine].run(graph, inputs);
    const outputs = graph.outputs.map((io, i) => outputFromIR(graph, io, irOutputs[i]!));

    for (const [i, file] of outputFiles.entries()) {
      await writeFileAtomic(file, encodeNpy(outputs[i]!), args.force);
      const { dtype, shape } = outputs[i]!;
      process.stderr.write(`wrote ${file} (${graph.outputs[i]!.name}, ${describeType(dtype, shape)})\n`);
    }
    process.stdout.write(args.json ? `${JSON.stringify(outputsDocument(graph, outputs))}\n` : formatOutputs(graph, outputs));
  },
};

/** The `--json` document: every output in its external dtype, data flat in row-major order. */
function outputsDocument(graph: Graph, outputs: NdArray[]) {
  return {
    outputs: outputs.map((output, i) => ({
      name: graph.outputs[i]!.name,
      dtype: output.dtype,
      shape: output.shape,
      data: toNumbers(output.data),
    })),
  };
}

/** Reads and converts the input files, one per graph input, in graph.inputs order. */
async function readInputs(graph: Graph, files: string[]) {
  if (files.length !== graph.inputs.length) {
    const names = graph.inputs.map((io) => `'${io.name}'`).join(', ');
    const count = `${graph.inputs.length} input${graph.inputs.length === 1 ? '' : 's'}`;
    throw new InputError(`the model has ${count} (${names}, in this order); ${files.length} --input given`);
  }
  return Promise.all(
    graph.inputs.map(async (io, i) => {
      const file = files[i]!;
      return inputToIR(graph, io, await readInputFile(file, io.externalDtype), file);
    }),
  );
}

function formatOutputs(graph: Graph, outputs: NdArray[]): string {
  return outputs
    .map((output, i) => {
      const values = toNumbers(output.data);
      const shown = values.slice(0, PRINTED_VALUES).join(' ');
      const more = values.length > PRINTED_VALUES ? ` ... (${values.length - PRINTED_VALUES} more: use --json or --output)` : '';
      return `${graph.outputs[i]!.name}: ${describeType(output.dtype, output.shape)}\n  ${shown}${more}\n`;
    })
    .join('');
}
