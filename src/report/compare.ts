/**
 * `tinyedge report a.json b.json ...`: deploy reports side by side (boards, commits, models), each latency as a
 * ratio to the first report's, and the per-layer times next to each other when every report ran the same layers.
 */
import { formatBytes, formatClock, formatCount, formatMs, formatPerMac, shortHash } from './format.js';
import { palette } from './palette.js';
import { layerLabels } from './layer-names.js';
import { textTable, type Align } from './text-table.js';
import type { DeployReport, LatencyUnit } from './types.js';

export const COMPARISON_SCHEMA = 'tinyedge.compare/1';

export interface ComparisonEntry {
  /** How the column is headed: the report's file, or "#1", "#2"... */
  label: string;
  model: { name: string; path: string; sha256: string; macs: number };
  target: { name: string; core: string; clockHz: number; emulated: boolean };
  tool: { version: string; commit?: string; date: string };
  latency: { unit: LatencyUnit; median: number; ms: number; msBasis: DeployReport['latency']['msBasis']; perMac: number | null };
  /** median / the first report's median; null when the two are timed in different units. */
  ratio: number | null;
  arenaBytes: number;
  flashBytes: number;
  ramBytes: number;
  bitExact: boolean;
  mismatches: number;
}

export interface LayerComparison {
  index: number;
  name: string;
  op: string;
  /** The layer's median time in each report, in entry order. */
  times: number[];
  /** times[i] / times[0]; null where the units differ or the first time is 0. */
  ratios: (number | null)[];
}

export interface ComparisonTable {
  schema: typeof COMPARISON_SCHEMA;
  entries: ComparisonEntry[];
  /** Present when every report has the same layers (names and ops, in the same order). */
  layers?: LayerComparison[];
  /** What a reader must know to read the ratios right. */
  notes: string[];
}

export function compareReports(reports: readonly DeployReport[], labels?: readonly string[]): ComparisonTable {
  if (reports.length === 0) throw new Error('compareReports needs at least one report');
  const first = reports[0]!;
  const ratioTo = (report: DeployReport, value: number, base: number) =>
    report.latency.unit === first.latency.unit && base > 0 ? value / base : null;

  const entries = reports.map((report, i): ComparisonEntry => ({
    label: labels?.[i] ?? `#${i + 1}`,
    model: { name: report.model.name, path: report.model.path, sha256: report.model.sha256, macs: report.model.macs },
    target: { ...report.target },
    tool: { ...report.tool },
    latency: {
      unit: report.latency.unit,
      median: report.latency.median,
      ms: report.latency.ms,
      msBasis: report.latency.msBasis,
      perMac: report.latency.perMac,
    },
    ratio: ratioTo(report, report.latency.median, first.latency.median),
    arenaBytes: report.memory.arenaBytes,
    flashBytes: report.memory.flashBytes,
    ramBytes: report.memory.ramBytes,
    bitExact: report.validation.bitExact,
    mismatches: report.validation.mismatches,
  }));

  const notes: string[] = [];
  if (reports.some((r) => r.latency.unit !== first.latency.unit)) {
    notes.push(`the reports are timed in different units (cycles and instructions): ratios only for reports timed in ${first.latency.unit}, like the first`);
  }
  if (new Set(reports.map((r) => r.model.sha256)).size > 1) notes.push('the reports are of different models: ratios compare different work');
  if (reports.some((r) => r.latency.msBasis !== 'cycles')) {
    notes.push('milliseconds of emulated runs are estimates at 1 instruction per cycle at the target clock');
  }

  const sameLayers = reports.every(
    (r) => r.layers.length === first.layers.length && r.layers.every((layer, i) => layer.name === first.layers[i]!.name && layer.op === first.layers[i]!.op),
  );
  const layers = sameLayers
    ? first.layers.map((layer, i): LayerComparison => {
        const times = reports.map((r) => r.layers[i]!.time);
        return { index: layer.index, name: layer.name, op: layer.op, times, ratios: reports.map((r, j) => ratioTo(r, times[j]!, times[0]!)) };
      })
    : undefined;
  if (!sameLayers && reports.length > 1) notes.push('the reports ran different layers: no per-layer comparison');

  return { schema: COMPARISON_SCHEMA, entries, ...(layers ? { layers } : {}), notes };
}

/** The comparison as a JSON document, for scripts. */
export function comparisonJson(table: ComparisonTable): string {
  return `${JSON.stringify(table, null, 2)}\n`;
}

export function formatComparisonText(table: ComparisonTable, options: { color: boolean }): string {
  const { bold, bad, dim } = palette(options.color);
  const { entries } = table;
  const ratio = (value: number | null) => (value === null ? '-' : `${value.toFixed(2)}×`);

  const summary: [string, (e: ComparisonEntry) => string][] = [
    ['model', (e) => e.model.name],
    ['sha256', (e) => shortHash(e.model.sha256)],
    ['board', (e) => `${e.target.name}${e.target.emulated ? ' (emulated)' : ''}`],
    ['core', (e) => `${e.target.core} at ${formatClock(e.target.clockHz)}`],
    ['tinyedge', (e) => [e.tool.version, e.tool.commit].filter(Boolean).join(' ')],
    ['date', (e) => e.tool.date.slice(0, 10)],
    ['latency', (e) => `${formatCount(e.latency.median)} ${e.latency.unit}`],
    ['vs first', (e) => ratio(e.ratio)],
    ['ms', (e) => `${formatMs(e.latency.ms)}${e.latency.msBasis === 'cycles' ? '' : ' (estimate)'}`],
    ['per MAC', (e) => formatPerMac(e.latency.perMac)],
    ['arena', (e) => formatBytes(e.arenaBytes)],
    ['flash', (e) => formatBytes(e.flashBytes)],
    ['RAM', (e) => formatBytes(e.ramBytes)],
    ['bit-exact', (e) => (e.bitExact ? 'yes' : `NO (${formatCount(e.mismatches)} differ)`)],
  ];
  const rows = [['', ...entries.map((e) => e.label)], ...summary.map(([name, cell]) => [name, ...entries.map(cell)])];
  const bitExactRow = rows.length - 1;
  const lines = textTable(rows, ['left', ...entries.map((): Align => 'left')], (row, column, text) => {
    if (row === 0 || column === 0) return bold(text);
    if (row === bitExactRow && !entries[column - 1]!.bitExact) return bad(text);
    return text;
  });

  const out = [bold(`Comparing ${entries.length} deploy report${entries.length === 1 ? '' : 's'}`), ...lines];
  if (table.layers) {
    const header = ['#', 'layer', 'op', ...entries.map((e) => `${e.label} (${e.latency.unit})`)];
    const labels = layerLabels(table.layers.map((layer) => layer.name), 40);
    const layerRows = table.layers.map((layer, i) => [
      String(layer.index),
      labels[i]!,
      layer.op,
      ...layer.times.map((time, i) => (i === 0 || layer.ratios[i] === null ? formatCount(time) : `${formatCount(time)} (${ratio(layer.ratios[i]!)})`)),
    ]);
    const align: Align[] = ['right', 'left', 'left', ...entries.map((): Align => 'right')];
    out.push('', bold('layers (median times; ratio to the first report)'), ...textTable([header, ...layerRows], align, (row, _c, text) => (row === 0 ? bold(text) : text)));
  }
  if (table.notes.length > 0) out.push('', ...table.notes.map((note) => dim(`note: ${note}`)));
  return `${out.join('\n')}\n`;
}
