/**
 * `tinyedge inspect MODEL [--json]`: what a model is made of and what it costs. Unsupported ops are reported, not
 * fatal: reporting is this command's whole job (exit 0); `run` refuses such a model.
 */
import { basename } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { loadModel } from '../../frontend/index.js';
import { graphCost, type LayerCost } from '../../ir/cost.js';
import type { Graph, ModelFormat } from '../../ir/types.js';
import { boundarySpec } from '../../io/tensors.js';
import { formatShape, formatTable } from '../table.js';

interface InspectArgs {
  model: string;
  json: boolean;
}

/** One graph input or output as inspect reports it; scale and zero point are null for float tensors. */
export interface BoundaryReport {
  name: string;
  shape: number[];
  dtype: string;
  scale: number | null;
  zeroPoint: number | null;
}

/** The `--json` document. */
export interface InspectReport {
  format: ModelFormat;
  inputs: BoundaryReport[];
  outputs: BoundaryReport[];
  layers: LayerCost[];
  macs: number;
  paramBytes: number;
  unsupported: { node: string; op: string }[];
}

export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect <model>',
  describe: 'Show a model: inputs, outputs, layers with MACs and parameter bytes, unsupported ops',
  builder: (yargs: Argv) =>
    yargs
      .positional('model', { type: 'string', demandOption: true, describe: 'TFLite (.tflite) or ONNX (.onnx) model file' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON on stdout' }) as Argv<InspectArgs>,
  handler: async (args) => {
    const graph = await loadModel(args.model);
    const report = inspectReport(graph);
    const text = args.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspectReport(basename(args.model), report, graph);
    process.stdout.write(text);
  },
};

export function inspectReport(graph: Graph): InspectReport {
  const cost = graphCost(graph);
  const boundary = (io: Graph['inputs'][number]): BoundaryReport => {
    const spec = boundarySpec(graph, io);
    const { name, shape, dtype } = spec;
    return { name, shape, dtype, scale: spec.scale ?? null, zeroPoint: spec.zeroPoint ?? null };
  };
  return {
    format: graph.format,
    inputs: graph.inputs.map(boundary),
    outputs: graph.outputs.map(boundary),
    layers: cost.layers,
    macs: cost.macs,
    paramBytes: cost.paramBytes,
    unsupported: graph.unsupported.map(({ node, op }) => ({ node, op })),
  };
}

/** Human tables cut names to this length (TFLite's fused names run to hundreds of characters); --json has them whole. */
const NAME_WIDTH = 60;

function formatInspectReport(modelName: string, report: InspectReport, graph: Graph): string {
  const boundaryTable = (items: BoundaryReport[]) =>
    formatTable(
      ['name', 'shape', 'dtype', 'scale', 'zero point'],
      items.map((io) => [
        io.name,
        formatShape(io.shape),
        io.dtype,
        io.scale === null ? '-' : String(Number(io.scale.toPrecision(8))),
        io.zeroPoint === null ? '-' : String(io.zeroPoint),
      ]),
    );
  // The name goes last: the columns that matter stay aligned whatever the names' length.
  const layerTable = formatTable(
    ['#', 'op', 'output shape', 'MACs', 'param bytes', 'name'],
    [
      ...report.layers.map((layer, index) => {
        const { op, outputShape, macs, paramBytes, name } = layer;
        return [String(index), op, formatShape(outputShape), macs, paramBytes, shorten(name)];
      }),
      ['', 'total', '', report.macs, report.paramBytes, ''],
    ],
  );
  const unsupported =
    graph.unsupported.length === 0
      ? 'unsupported ops: none'
      : `unsupported ops (${graph.unsupported.length}; \`tinyedge run\` refuses this model):\n` +
        formatTable(['op', 'node', 'reason'], graph.unsupported.map((u) => [u.op, shorten(u.node), u.reason ?? '']));
  return [
    `${modelName} (${report.format}): ${report.layers.length} layer${report.layers.length === 1 ? '' : 's'}`,
    '',
    'inputs',
    boundaryTable(report.inputs),
    'outputs',
    boundaryTable(report.outputs),
    '',
    'layers',
    layerTable,
    '',
    unsupported,
    '',
  ].join('\n');
}

function shorten(name: string): string {
  return name.length <= NAME_WIDTH ? name : `${name.slice(0, NAME_WIDTH - 1)}…`;
}
