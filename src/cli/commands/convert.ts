/**
 * `tinyedge convert MODEL -o OUT.onnx [--force]`: a quantized model (TFLite or ONNX) written as a standard ONNX QDQ
 * model, so the same network runs in onnxruntime and any QDQ-aware tool. Inputs and outputs keep their shapes.
 */
import { extname } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { UnsupportedOpsError, UsageError } from '../../errors.js';
import { exportOnnxQdq } from '../../export/onnx.js';
import { loadModel } from '../../frontend/index.js';
import { writeFileAtomic } from '../../io/output-files.js';

interface ConvertArgs {
  model: string;
  output: string;
  force: boolean;
}

export const convertCommand: CommandModule<object, ConvertArgs> = {
  command: 'convert <model>',
  describe: 'Write a quantized model (TFLite or ONNX) as an ONNX QDQ model',
  builder: (yargs: Argv) =>
    yargs
      .positional('model', { type: 'string', demandOption: true, describe: 'TFLite (.tflite) or ONNX (.onnx) model file' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, requiresArg: true, describe: 'The ONNX file to write (.onnx)' })
      .option('force', { type: 'boolean', default: false, describe: 'Overwrite an existing output file' }) as unknown as Argv<ConvertArgs>,
  handler: async (args) => {
    if (extname(args.output).toLowerCase() !== '.onnx') throw new UsageError(`--output ${args.output}: convert writes ONNX files (.onnx)`);
    const graph = await loadModel(args.model);
    if (graph.unsupported.length > 0) throw new UnsupportedOpsError(args.model, graph.unsupported);
    const bytes = exportOnnxQdq(graph);
    await writeFileAtomic(args.output, bytes, args.force);
    process.stderr.write(`wrote ${args.output} (ONNX QDQ, ${graph.nodes.length} nodes, ${bytes.length} bytes)\n`);
  },
};
