/**
 * The deploy report as one self-contained HTML page (templates/report/report.html.hbs): summary, a per-layer latency
 * bar chart and the memory breakdown as inline SVG, validation verdict, layer table, outputs. Nothing is loaded
 * from elsewhere, and a Content-Security-Policy says so: no external scripts, styles, fonts or images, and only our
 * own inline script (allowed by its hash) runs.
 *
 * TypeScript decides every number and coordinate; the template only places them. Model-derived strings (layer and
 * model names, paths) reach the page only through Handlebars' escaping {{ }}, never {{{ }}}.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
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
import { layerLabels } from './layer-names.js';
import type { DeployReport, LayerReport } from './types.js';

/** templates/report/ beside src/ (and beside dist/ once built). */
export const REPORT_TEMPLATES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../templates/report');

/** Output values shown per output; the JSON report has them all. */
const SHOWN_VALUES = 64;

export function renderReportHtml(report: DeployReport): string {
  const { template, script } = loadTemplate();
  const view = htmlView(report);
  return template({ ...view, script, contentSecurityPolicy: contentSecurityPolicy(script) });
}

let loaded: { template: Handlebars.TemplateDelegate; script: string } | undefined;

function loadTemplate(): { template: Handlebars.TemplateDelegate; script: string } {
  if (!loaded) {
    const env = Handlebars.create();
    const source = readFileSync(path.join(REPORT_TEMPLATES_DIR, 'report.html.hbs'), 'utf8');
    // The script is our own file (no model data in it): inserted raw, and allowed by the CSP through its hash.
    const script = readFileSync(path.join(REPORT_TEMPLATES_DIR, 'report.js'), 'utf8');
    loaded = { template: env.compile(source, { strict: true }), script };
  }
  return loaded;
}

function contentSecurityPolicy(script: string): string {
  const hash = createHash('sha256').update(script, 'utf8').digest('base64');
  return `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${hash}'`;
}

// ---------------------------------------------------------------------------------------------------------------
// The view: everything the template shows, formatted, and every coordinate of the charts.

/** Colours by op family, so the chart shows at a glance where convolutions, depthwise layers... spend the time. */
const OP_FAMILIES: { family: string; label: string; ops: string[] }[] = [
  { family: 'conv', label: 'convolution', ops: ['Conv2D'] },
  { family: 'depthwise', label: 'depthwise convolution', ops: ['DepthwiseConv2D'] },
  { family: 'dense', label: 'fully connected / matmul', ops: ['FullyConnected', 'BatchMatMul'] },
  { family: 'pool', label: 'pooling / mean', ops: ['AveragePool2D', 'MaxPool2D', 'Mean'] },
  { family: 'elementwise', label: 'element-wise', ops: ['Add', 'Sub', 'Mul', 'Concat'] },
];
const OTHER_FAMILY = { family: 'other', label: 'other' };

function familyOf(op: string): { family: string; label: string } {
  return OP_FAMILIES.find((f) => f.ops.includes(op)) ?? OTHER_FAMILY;
}

export const CHART = {
  width: 960,
  /** Left column: index and (shortened) layer name. */
  labelWidth: 330,
  /** Right of the longest bar: its value. */
  valueWidth: 150,
  rowHeight: 22,
  barHeight: 14,
  axisHeight: 26,
  labelChars: 46,
};

export interface ChartRow {
  index: number;
  /** Index and shortened name; the tooltip has the whole name. */
  label: string;
  op: string;
  family: string;
  /** Top of the row (its hover band), of the bar, and the text baseline. */
  bandY: number;
  y: number;
  textY: number;
  width: number;
  valueX: number;
  value: string;
  tooltip: string;
}

export interface ChartTick {
  x: number;
  label: string;
}

/** The per-layer latency chart: one horizontal bar per layer, in execution order, scaled to the slowest layer. */
export interface LatencyChart {
  width: number;
  height: number;
  rowHeight: number;
  barHeight: number;
  barX: number;
  rows: ChartRow[];
  ticks: ChartTick[];
  gridTop: number;
  gridBottom: number;
}

export function latencyChart(report: DeployReport): LatencyChart {
  const { layers, latency } = report;
  const barX = CHART.labelWidth;
  const span = CHART.width - CHART.labelWidth - CHART.valueWidth;
  const top = niceTicks(Math.max(0, ...layers.map((l) => l.time)));
  const scale = top.max > 0 ? span / top.max : 0;
  const labels = layerLabels(layers.map((layer) => layer.name), CHART.labelChars);
  const rows = layers.map((layer, i): ChartRow => {
    const bandY = CHART.axisHeight + i * CHART.rowHeight;
    const y = bandY + (CHART.rowHeight - CHART.barHeight) / 2;
    const width = layer.time * scale;
    return {
      index: layer.index,
      label: `${layer.index}  ${labels[i]}`,
      op: layer.op,
      family: familyOf(layer.op).family,
      bandY,
      y: round(y),
      textY: round(y + CHART.barHeight / 2 + 4),
      width: round(width),
      valueX: round(barX + width + 6),
      value: `${formatCount(layer.time)} · ${formatPercent(layer.share)}`,
      tooltip: layerTooltip(layer, latency.unit),
    };
  });
  const gridBottom = CHART.axisHeight + layers.length * CHART.rowHeight;
  return {
    width: CHART.width,
    height: gridBottom + 4,
    rowHeight: CHART.rowHeight,
    barHeight: CHART.barHeight,
    barX,
    rows,
    ticks: top.ticks.map((value) => ({ x: round(barX + value * scale), label: compactNumber(value) })),
    gridTop: CHART.axisHeight - 6,
    gridBottom,
  };
}

function layerTooltip(layer: LayerReport, unit: string): string {
  const perMac = layer.perMac === null ? '' : `, ${formatPerMac(layer.perMac)} per MAC`;
  return `#${layer.index} ${layer.name} (${layer.op}): ${formatCount(layer.time)} ${unit}, ${formatPercent(layer.share)}${perMac}`;
}

/** Axis ticks at 1, 2 or 5 times a power of ten, about five of them, the last at or above `max`. */
export function niceTicks(max: number): { max: number; ticks: number[] } {
  if (max <= 0) return { max: 0, ticks: [0] };
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  const top = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { max: top, ticks };
}

/** 1500000 -> "1.5M", 250000 -> "250k". */
export function compactNumber(value: number): string {
  if (value >= 1e9) return `${Number((value / 1e9).toPrecision(3))}G`;
  if (value >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (value >= 1e3) return `${Number((value / 1e3).toPrecision(3))}k`;
  return String(value);
}

export interface MemorySegment {
  part: string;
  label: string;
  bytes: string;
  x: number;
  width: number;
  /** Percent of the used bytes, for the legend. */
  share: string;
}

export interface MemoryBar {
  name: string;
  used: string;
  capacity: string;
  fill: string;
  /** The used/capacity gauge under the breakdown. */
  fillWidth: number;
  over: boolean;
  segments: MemorySegment[];
}

const MEMORY_BAR_WIDTH = 960;

/** Flash (code, weights) and RAM (arena, stack, other): each bar splits the used bytes; a gauge shows the fill. */
export function memoryBars(report: DeployReport): MemoryBar[] {
  const m = report.memory;
  const bar = (name: string, used: number, capacity: number, parts: { part: string; label: string; bytes: number }[]): MemoryBar => {
    const total = parts.reduce((sum, p) => sum + p.bytes, 0);
    let x = 0;
    const segments = parts.map((p) => {
      const width = total > 0 ? (p.bytes / total) * MEMORY_BAR_WIDTH : 0;
      const segment = { part: p.part, label: p.label, bytes: formatBytes(p.bytes), x: round(x), width: round(width), share: formatPercent(total > 0 ? p.bytes / total : 0) };
      x += width;
      return segment;
    });
    const fill = capacity > 0 ? used / capacity : 0;
    return {
      name,
      used: formatBytes(used),
      capacity: formatBytes(capacity),
      fill: formatPercent(fill),
      fillWidth: round(Math.min(fill, 1) * MEMORY_BAR_WIDTH),
      over: fill > 1,
      segments,
    };
  };
  return [
    bar('Flash', m.flashBytes, m.flashCapacity, [
      { part: 'code', label: 'code', bytes: m.codeBytes },
      { part: 'weights', label: 'weights', bytes: m.weightsBytes },
    ]),
    bar('RAM', m.ramBytes, m.ramCapacity, [
      { part: 'arena', label: 'arena', bytes: m.arenaBytes },
      { part: 'stack', label: 'stack', bytes: m.stackBytes },
      { part: 'other-ram', label: 'other', bytes: m.otherRamBytes },
    ]),
  ];
}

function htmlView(report: DeployReport) {
  const { model, target, latency, validation, tool, memory } = report;
  const chart = latencyChart(report);
  const families = new Set(chart.rows.map((r) => r.family));
  return {
    title: `${model.name} on ${target.name}`,
    model: {
      path: model.path,
      name: model.name,
      sha256: model.sha256,
      hash: shortHash(model.sha256),
      macs: formatCount(model.macs),
      parameters: formatBytes(model.paramBytes),
    },
    target: {
      name: target.name,
      core: target.core,
      clock: formatClock(target.clockHz),
      emulated: target.emulated,
    },
    tool: { version: tool.version, commit: tool.commit ?? '', date: tool.date },
    latency: {
      unit: latency.unit,
      median: formatCount(latency.median),
      min: formatCount(latency.min),
      max: formatCount(latency.max),
      runs: latency.runs,
      warmups: latency.warmups,
      ms: formatMs(latency.ms),
      estimate: latency.msBasis !== 'cycles',
      basis: msBasisText(latency),
      perMac: formatPerMac(latency.perMac),
      outside: formatCount(latency.outsideLayers),
      outsideShare: formatPercent(latency.median > 0 ? latency.outsideLayers / latency.median : 0),
      samples: latency.samples.map(formatCount).join(', '),
      identical: latency.min === latency.max,
    },
    validation: {
      bitExact: validation.bitExact,
      verdict: verdictText(validation),
    },
    chart,
    legend: [...OP_FAMILIES, OTHER_FAMILY].filter((f) => families.has(f.family)).map((f) => ({ family: f.family, label: f.label })),
    memory: {
      bars: memoryBars(report),
      width: MEMORY_BAR_WIDTH,
      arena: formatBytes(memory.arenaBytes),
      ram: `${formatBytes(memory.ramBytes)} of ${formatBytes(memory.ramCapacity)}`,
      flash: `${formatBytes(memory.flashBytes)} of ${formatBytes(memory.flashCapacity)}`,
      sections: `text ${formatCount(memory.text)} B, data ${formatCount(memory.data)} B, bss ${formatCount(memory.bss)} B`,
    },
    layers: report.layers.map((layer) => ({
      index: layer.index,
      name: layer.name,
      op: layer.op,
      family: familyOf(layer.op).family,
      macs: formatCount(layer.macs),
      time: formatCount(layer.time),
      share: formatPercent(layer.share),
      perMac: formatPerMac(layer.perMac),
    })),
    totals: { macs: formatCount(model.macs), time: formatCount(latency.median), perMac: formatPerMac(latency.perMac) },
    outputs: report.outputs.map((output) => ({
      name: output.name,
      type: `${output.dtype}[${output.shape.join(',')}]`,
      values: output.data.slice(0, SHOWN_VALUES).map((v) => (v === null ? 'NaN' : String(v))).join(', '),
      more: output.data.length > SHOWN_VALUES ? `… ${formatCount(output.data.length - SHOWN_VALUES)} more in the JSON report` : '',
    })),
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
