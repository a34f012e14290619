/**
 * `tinyedge compile MODEL -o DIR [--target T | --isa I] [--prefix P] [--force] [--json]`: the generated C library
 * (sources, header, README) written atomically to DIR, with the memory plan reported. The kernels are portable C
 * unless a target with the DSP extension (or `--isa dsp`) asks for the SIMD ones.
 */
import type { Argv, CommandModule } from 'yargs';
import { compileReport, type CompileReport } from '../../codegen/report.js';
import { generateLibrary } from '../../codegen/index.js';
import { isaForTarget, ISAS, type Isa } from '../../codegen/isa.js';
import { writeLibraryAtomically } from '../../codegen/write.js';
import { UnsupportedOpsError } from '../../errors.js';
import { loadModel } from '../../frontend/index.js';
import { optimizeGraph } from '../../passes/index.js';
import { loadTarget } from '../../targets/index.js';
import { formatTable } from '../table.js';

interface CompileArgs {
  model: string;
  output: string;
  prefix?: string;
  target?: string;
  isa?: Isa;
  optimize: boolean;
  force: boolean;
  json: boolean;
}

export const compileCommand: CommandModule<object, CompileArgs> = {
  command: 'compile <model>',
  describe: 'Generate the C library for a model (no interpreter, no malloc) and report its memory plan',
  builder: (yargs: Argv) =>
    yargs
      .positional('model', { type: 'string', demandOption: true, describe: 'TFLite (.tflite) or ONNX (.onnx) model file' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, requiresArg: true, describe: 'Directory to write the library to' })
      .option('prefix', { type: 'string', requiresArg: true, describe: 'C prefix P of tinyedge_P_run (default: from the model name)' })
      .option('target', { type: 'string', requiresArg: true, describe: 'Target name or JSON file: its core decides the kernels (see `tinyedge build --help`)' })
      .option('isa', { choices: ISAS, describe: 'Kernel family: portable C (default) or dsp (Cortex-M4/M7/M33/M55 SIMD)' })
      .conflicts('target', 'isa')
      .option('optimize', { type: 'boolean', default: true, describe: 'Run the optimization passes first (--no-optimize: generate the graph as imported)' })
      .option('force', { type: 'boolean', default: false, describe: 'Replace an existing output directory' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the memory plan and layers as JSON on stdout' }) as unknown as Argv<CompileArgs>,
  handler: async (args) => {
    const imported = await loadModel(args.model);
    if (imported.unsupported.length > 0) throw new UnsupportedOpsError(args.model, imported.unsupported);
    const graph = args.optimize ? optimizeGraph(imported).graph : imported;
    const isa: Isa = args.isa ?? (args.target ? isaForTarget(loadTarget(args.target)) : 'portable');
    const library = generateLibrary(graph, { prefix: args.prefix, modelHash: imported.source!.sha256, isa });
    await writeLibraryAtomically(args.output, library.files, { force: args.force });
    const report = compileReport(graph, library);
    process.stdout.write(args.json ? `${JSON.stringify(report)}\n` : formatCompileReport(args.output, report));
  },
};

const NAME_WIDTH = 48;

function shorten(name: string): string {
  return name.length <= NAME_WIDTH ? name : `${name.slice(0, NAME_WIDTH - 1)}…`;
}

function formatCompileReport(dir: string, report: CompileReport): string {
  const lines = [
    `wrote ${dir}: ${report.files.join(', ')}`,
    `call tinyedge_${report.prefix}_run() from tinyedge_${report.prefix}.h (see ${dir}/README.md)`,
    '',
    `arena ${report.arenaBytes} B (lower bound ${report.peakBytes} B; ${report.arenaBytesWithIo} B with inputs and outputs in the arena), ` +
      `constants ${report.constantBytes} B (flash)`,
    '',
    // The name goes last and is cut: TFLite's fused names run to hundreds of characters (--json has them whole).
    formatTable(
      ['#', 'op', 'function', 'weights', 'scratch B', 'in place', 'layer'],
      report.layers.map((layer) => [
        layer.index,
        layer.op,
        layer.function ?? '(no code)',
        layer.weights ? `${layer.weights.format} ${layer.weights.bytes} B` : '',
        layer.scratchBytes,
        layer.inPlaceOver ? 'yes' : '',
        shorten(layer.name),
      ]),
    ),
  ];
  return `${lines.join('\n')}\n`;
}
