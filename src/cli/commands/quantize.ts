/**
 * `tinyedge quantize MODEL.onnx --calibration DIR -o OUT.onnx [--method minmax|percentile] [--percentile P]
 *  [--per-tensor] [--eval DIR] [--json] [--force]`: post-training int8 quantization of a float ONNX model into a QDQ
 * model, with how far its outputs are from the float model's, on onnxruntime and on the reference interpreter.
 */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { assertWritable, writeFileAtomic } from '../../io/output-files.js';
import { quantizeModel, type CalibrationMethod, type OutputMetrics, type QuantizeResult } from '../../quantize/index.js';
import { formatTable, type Cell } from '../table.js';

interface QuantizeArgs {
  model: string;
  calibration: string;
  output: string;
  method: 'minmax' | 'percentile';
  percentile?: number;
  perTensor: boolean;
  eval?: string;
  json: boolean;
  force: boolean;
}

const DEFAULT_PERCENTILE = 99.99;

export const quantizeCommand: CommandModule<object, QuantizeArgs> = {
  command: 'quantize <model>',
  describe: 'Quantize a float ONNX model to an int8 QDQ ONNX model, calibrated on sample inputs',
  builder: (yargs: Argv) =>
    yargs
      .positional('model', { type: 'string', demandOption: true, describe: 'Float ONNX model (.onnx)' })
      .option('calibration', {
        type: 'string',
        demandOption: true,
        requiresArg: true,
        describe: 'Directory of calibration samples: .npy files, or one sub-directory per sample (test_data_set_N/input_N.pb, NAME.npy)',
      })
      .option('output', { alias: 'o', type: 'string', demandOption: true, requiresArg: true, describe: 'Quantized model to write (QDQ ONNX)' })
      .option('method', { type: 'string', choices: ['minmax', 'percentile'], default: 'minmax', describe: 'How activation ranges are taken from the calibration runs' })
      .option('percentile', { type: 'number', requiresArg: true, describe: `Percentile kept on each side with --method percentile (default ${DEFAULT_PERCENTILE})` })
      .option('per-tensor', { type: 'boolean', default: false, describe: 'One weight scale per tensor instead of per output channel' })
      .option('eval', { type: 'string', requiresArg: true, describe: 'Held-out samples (same layout) to evaluate the quantized model on' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON on stdout' })
      .option('force', { type: 'boolean', default: false, describe: 'Overwrite the output file if it exists' }) as unknown as Argv<QuantizeArgs>,
  handler: async (args) => {
    const method = calibrationMethod(args);
    await assertWritable([args.output], args.force);
    const result = await quantizeModel({
      model: args.model,
      calibration: args.calibration,
      ...(args.eval !== undefined ? { eval: args.eval } : {}),
      output: args.output,
      method,
      perChannel: !args.perTensor,
    });
    await writeFileAtomic(args.output, result.bytes, args.force);
    process.stderr.write(`wrote ${args.output} (int8 QDQ, opset ${result.summary.opset}, ${result.bytes.length} bytes)\n`);
    process.stdout.write(args.json ? `${JSON.stringify(reportDocument(args, method, result))}\n` : formatReport(args, method, result));
  },
};

function calibrationMethod(args: QuantizeArgs): CalibrationMethod {
  if (args.method === 'minmax') {
    if (args.percentile !== undefined) throw new UsageError('--percentile applies to --method percentile only');
    return { kind: 'minmax' };
  }
  const percentile = args.percentile ?? DEFAULT_PERCENTILE;
  if (!Number.isFinite(percentile) || percentile <= 50 || percentile > 100) {
    throw new UsageError(`--percentile ${args.percentile}: must be above 50 and at most 100 (e.g. 99.99)`);
  }
  return { kind: 'percentile', percentile };
}

function methodName(method: CalibrationMethod): string {
  return method.kind === 'minmax' ? 'min/max' : `percentile ${method.percentile}`;
}

/** The --json document. */
function reportDocument(args: QuantizeArgs, method: CalibrationMethod, result: QuantizeResult) {
  const { summary } = result;
  return {
    model: args.model,
    output: args.output,
    method: method.kind,
    percentile: method.kind === 'percentile' ? method.percentile : null,
    weights: args.perTensor ? 'per-tensor' : 'per-channel',
    opset: summary.opset,
    calibrationSamples: summary.calibrationSamples,
    quantizedActivations: summary.activations,
    quantizedWeights: summary.weights,
    quantizedBiases: summary.biases,
    fusedActivations: summary.fused,
    ops: summary.ops,
    evaluation: result.evaluations,
  };
}

function formatReport(args: QuantizeArgs, method: CalibrationMethod, result: QuantizeResult): string {
  const { summary } = result;
  const ops = Object.entries(summary.ops)
    .map(([op, count]) => `${count} ${op}`)
    .join(', ');
  const lines = [
    `${args.model} -> ${args.output}`,
    `  ops: ${ops}`,
    `  int8 activations (asymmetric, per tensor): ${summary.activations}; int8 weights (symmetric, ${args.perTensor ? 'per tensor' : 'per channel'}): ${summary.weights}; int32 biases: ${summary.biases}; fused activations: ${summary.fused}`,
    `  calibration: ${summary.calibrationSamples} sample${summary.calibrationSamples === 1 ? '' : 's'} from ${args.calibration}, ${methodName(method)}`,
    '',
    'float model vs quantized model:',
  ];
  const rows: Cell[][] = [];
  for (const evaluation of result.evaluations) {
    for (const output of evaluation.outputs) {
      for (const engine of ['onnxruntime', 'reference'] as const) {
        const first = engine === 'onnxruntime';
        rows.push([first ? evaluation.set : '', first ? String(evaluation.samples) : '', first ? output.name : '', engine, ...metricCells(output[engine])]);
      }
    }
  }
  lines.push(formatTable(['set', 'samples', 'output', 'engine', 'cosine', 'min cosine', 'max abs err', 'mean abs err', 'top-1 agreement'], rows));
  return `${lines.join('\n')}\n`;
}

function metricCells(metrics: OutputMetrics): Cell[] {
  const top1 = metrics.top1Agreement === null ? 'n/a' : `${Math.round(metrics.top1Agreement * metrics.rows)}/${metrics.rows} (${(metrics.top1Agreement * 100).toFixed(1)}%)`;
  return [metrics.cosine.toFixed(6), metrics.minCosine.toFixed(6), significant(metrics.maxAbsError), significant(metrics.meanAbsError), top1];
}

function significant(value: number): string {
  return value === 0 ? '0' : value.toPrecision(4);
}
