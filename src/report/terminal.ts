/**
 * The deploy report as the terminal shows it: totals first, then the layers in execution order with a bar for
 * their share of the time, the memory breakdown, and the validation verdict. Colour only on a terminal that wants it.
 */
import {
  formatBytes,
  formatClock,
  formatCount,
  formatMs,
  formatPercent,
  formatPerMac,
  msBasisText,
  shortHash,
  verdictText,
} from './format.js';
import { palette, type Palette } from './palette.js';
import { layerLabels } from './layer-names.js';
import { textTable, type Align } from './text-table.js';
import type { DeployReport } from './types.js';

export interface TerminalOptions {
  color: boolean;
  /** Columns of the widest share bar. */
  barWidth?: number;
}

/** Colour on a TTY, unless NO_COLOR is set to anything non-empty (no-color.org) or the terminal is dumb. */
export function shouldColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** Eighths of a block, so small shares still show. */
const PARTIAL_BLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

export function shareBar(fraction: number, width: number): string {
  const eighths = Math.round(Math.min(Math.max(fraction, 0), 1) * width * 8);
  return '█'.repeat(Math.floor(eighths / 8)) + PARTIAL_BLOCKS[eighths % 8]!;
}

const LAYER_NAME_WIDTH = 40;

export function formatReportText(report: DeployReport, options: TerminalOptions): string {
  const paint = palette(options.color);
  return [
    ...headerLines(report, paint),
    '',
    ...latencyLines(report, paint),
    '',
    ...layerLines(report, paint, options.barWidth ?? 20),
    '',
    ...memoryLines(report, paint),
    '',
    validationLine(report, paint),
  ].join('\n') + '\n';
}

function headerLines(report: DeployReport, paint: Palette): string[] {
  const { model, target, tool } = report;
  const board = `${target.core} at ${formatClock(target.clockHz)}${target.emulated ? ', emulated' : ''}`;
  const built = [`tinyedge ${tool.version}`, tool.commit, tool.date].filter(Boolean).join(', ');
  return [
    paint.bold(`Deployed ${model.path} to ${target.name}`) + ` (${board})`,
    `  model   ${model.name}, sha256 ${shortHash(model.sha256)}, ${formatCount(model.macs)} MACs, ${formatBytes(model.paramBytes)} of parameters`,
    paint.dim(`  by      ${built}`),
  ];
}

function latencyLines(report: DeployReport, paint: Palette): string[] {
  const l = report.latency;
  const runs = `median of ${l.runs} run${l.runs === 1 ? '' : 's'}; min ${formatCount(l.min)}, max ${formatCount(l.max)}` +
    `; ${l.warmups} warm-up${l.warmups === 1 ? '' : 's'}`;
  const lines = [
    `${paint.bold('latency')}  ${paint.bold(`${formatCount(l.median)} ${l.unit}`)} (${runs})`,
    `         ${paint.bold(formatMs(l.ms))}  ${paint.dim(msBasisText(l))}`,
  ];
  if (l.perMac !== null) lines.push(`         ${formatPerMac(l.perMac)} ${l.unit} per MAC`);
  return lines;
}

function layerLines(report: DeployReport, paint: Palette, barWidth: number): string[] {
  const { layers, latency } = report;
  const largest = Math.max(0, ...layers.map((layer) => layer.share));
  const header = ['#', 'layer', 'op', 'MACs', latency.unit, 'share', '', `per MAC`];
  const labels = layerLabels(layers.map((layer) => layer.name), LAYER_NAME_WIDTH);
  const rows = layers.map((layer, i) => [
    String(layer.index),
    labels[i]!,
    layer.op,
    formatCount(layer.macs),
    formatCount(layer.time),
    formatPercent(layer.share),
    // The widest bar is the slowest layer: the bars compare layers, the percentage gives the share.
    shareBar(largest > 0 ? layer.share / largest : 0, barWidth),
    formatPerMac(layer.perMac),
  ]);
  const outside = ['', 'outside layers', '', '', formatCount(latency.outsideLayers), formatPercent(latency.median > 0 ? latency.outsideLayers / latency.median : 0), '', ''];
  const total = ['', 'total', '', formatCount(report.model.macs), formatCount(latency.median), formatPercent(1), '', formatPerMac(latency.perMac)];
  const table = [header, ...rows, outside, total];
  const align: Align[] = ['right', 'left', 'left', 'right', 'right', 'right', 'left', 'right'];
  const lastRow = table.length - 1;
  const lines = textTable(table, align, (row, column, text) => {
    if (row === 0 || row === lastRow) return paint.bold(text);
    if (column === 6) return paint.bar(text);
    return row === lastRow - 1 ? paint.dim(text) : text;
  });
  return [paint.bold(`layers (${layers.length}, execution order; times are medians)`), ...lines];
}

function memoryLines(report: DeployReport, paint: Palette): string[] {
  const m = report.memory;
  const used = (bytes: number, capacity: number) =>
    `${formatBytes(bytes)} of ${formatBytes(capacity)}${capacity > 0 ? ` (${formatPercent(bytes / capacity)})` : ''}`;
  const rows = [
    ['flash', used(m.flashBytes, m.flashCapacity), `code ${formatBytes(m.codeBytes)}, weights ${formatBytes(m.weightsBytes)}`],
    ['RAM', used(m.ramBytes, m.ramCapacity), `arena ${formatBytes(m.arenaBytes)}, stack ${formatBytes(m.stackBytes)}, other ${formatBytes(m.otherRamBytes)}`],
  ];
  return [
    paint.bold('memory'),
    ...textTable(rows, ['left', 'left', 'left']),
    paint.dim(`  sections: text ${formatCount(m.text)} B, data ${formatCount(m.data)} B, bss ${formatCount(m.bss)} B`),
  ];
}

function validationLine(report: DeployReport, paint: Palette): string {
  const verdict = verdictText(report.validation);
  return `${paint.bold('validation')}  ${report.validation.bitExact ? paint.good(verdict) : paint.bad(verdict)}`;
}
