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
import { optimizeGraph, type OptimizeResult } from '../../passes/index.js';
import { formatShape, formatTable, groupDigits } from '../table.js';

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
  /** What the optimization passes make of the model before code generation; null when it has unsupported ops. */
  optimized: OptimizedReport | null;
}

export interface OptimizedReport {
  macs: number;
  paramBytes: number;
  layers: number;
  /** Passes that changed something, with their rewrites. */
  passes: { pass: string; changes: string[] }[];
  /** Structured pruning: output channels removed (all-zero weights and bias) and what that saved. */
  pruning: { removedChannels: number; layers: { node: string; removed: number; of: number }[]; macsSaved: number; paramBytesSaved: number };
  /** Unstructured sparsity of each weighted layer's int8 weights. */
  sparsity: { node: string; op: string; sparsity: number; zeroChannels: number; channels: number }[];
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
    optimized: graph.unsupported.length === 0 ? optimizedReport(optimizeGraph(graph)) : null,
  };
}

function optimizedReport(result: OptimizeResult): OptimizedReport {
  const cost = graphCost(result.graph);
  const removed = result.pruning?.removed ?? [];
  return {
    macs: cost.macs,
    paramBytes: cost.paramBytes,
    layers: cost.layers.length,
    passes: result.log.filter((entry) => entry.changes.length > 0).map(({ pass, changes }) => ({ pass, changes })),
    pruning: {
      removedChannels: removed.reduce((sum, r) => sum + r.channels.length, 0),
      layers: removed.map((r) => ({ node: r.producer, removed: r.channels.length, of: r.channelsBefore })),
      macsSaved: result.pruning ? result.pruning.macsBefore - result.pruning.macsAfter : 0,
      paramBytesSaved: result.pruning ? result.pruning.paramBytesBefore - result.pruning.paramBytesAfter : 0,
    },
    sparsity: result.sparsity.layers.map(({ node, op, sparsity, zeroChannels, channels }) => ({ node, op, sparsity, zeroChannels, channels })),
  };
}

function formatOptimized(report: InspectReport): string {
  const optimized = report.optimized;
  if (!optimized) return '';
  const percent = (part: number, whole: number) => (whole === 0 ? '0 %' : `${((100 * part) / whole).toFixed(1)} %`);
  const lines = [
    `optimized for code generation: ${optimized.layers} layers, ${groupDigits(optimized.macs)} MACs ` +
      `(${percent(optimized.macs, report.macs)} of the model), ${groupDigits(optimized.paramBytes)} parameter bytes`,
  ];
  for (const entry of optimized.passes) lines.push(`  ${entry.pass}: ${entry.changes.length} change${entry.changes.length === 1 ? '' : 's'}`);
  if (optimized.pruning.removedChannels > 0) {
    lines.push(
      `pruned channels removed: ${optimized.pruning.removedChannels} in ${optimized.pruning.layers.length} layers, ` +
        `saving ${groupDigits(optimized.pruning.macsSaved)} MACs and ${groupDigits(optimized.pruning.paramBytesSaved)} parameter bytes`,
    );
    lines.push(formatTable(['removed', 'of', 'layer'], optimized.pruning.layers.map((l) => [l.removed, l.of, shorten(l.node)])));
  }
  const sparse = optimized.sparsity.filter((layer) => layer.sparsity > 0);
  if (sparse.length > 0) {
    lines.push('weight sparsity (zero int8 weights)');
    lines.push(formatTable(['zeros', 'zero channels', 'op', 'layer'], sparse.map((l) => [percent(l.sparsity, 1), `${l.zeroChannels}/${l.channels}`, l.op, shorten(l.node)])));
  }
  return `${lines.join('\n')}\n`;
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
    formatOptimized(report),
  ].join('\n');
}

function shorten(name: string): string {
  return name.length <= NAME_WIDTH ? name : `${name.slice(0, NAME_WIDTH - 1)}…`;
}
