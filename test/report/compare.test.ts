import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import {
  buildReport,
  compareReports,
  comparisonJson,
  formatComparisonText,
  loadReport,
  loadReports,
  renderReportHtml,
  ReportFileError,
  reportJson,
  type DeployReport,
  type DeployResult,
} from '../../src/report/index.js';
import { KWS_LAYERS, KWS_TOTAL, kwsResult } from './support/kws-result.js';

/** The same model, timed in `unit` with every layer `factor` times as long. */
function scaled(factor: number, overrides: Partial<DeployResult>, unit: 'cycles' | 'instructions' = 'instructions'): DeployReport {
  const base = kwsResult();
  const runs = base.timing.runs.map((run) => ({ total: Math.round(run.total * factor), layers: run.layers.map((t) => Math.round(t * factor)) }));
  return buildReport({ ...base, timing: { ...base.timing, unit, runs }, ...overrides });
}

const f405 = buildReport(kwsResult());
const m7 = scaled(0.8, {
  target: { name: 'qemu-cortex-m7', core: 'cortex-m7', clockHz: 216_000_000, emulated: true },
  tool: { version: '0.1.0', commit: 'a1b2c3d', date: '2026-12-02T09:00:00.000Z' },
});
const board = scaled(1.1, { target: { name: 'nucleo-f446re', core: 'cortex-m4', clockHz: 180_000_000, emulated: false } }, 'cycles');
const autoencoder = buildReport({
  ...kwsResult(),
  model: { path: 'ad01_int8.tflite', name: 'ad01_int8', sha256: 'ab'.repeat(32), macs: 264_192, paramBytes: 270_000 },
  layers: [{ name: 'dense', op: 'FullyConnected', macs: 264_192 }],
  timing: { unit: 'instructions', warmups: 0, runs: [{ total: 600_000, layers: [590_000] }] },
  outputs: [{ name: 'out', dtype: 'int8', shape: [2], device: Int8Array.from([1, 2]), reference: Int8Array.from([1, 4]) }],
});

describe('compareReports', () => {
  test('puts reports side by side with each latency relative to the first', () => {
    const table = compareReports([f405, m7], ['f405.json', 'm7.json']);
    expect(table.schema).toBe('tinyedge.compare/1');
    expect(table.entries.map((e) => e.label)).toEqual(['f405.json', 'm7.json']);
    expect(table.entries.map((e) => e.target.name)).toEqual(['qemu-stm32f405', 'qemu-cortex-m7']);
    expect(table.entries.map((e) => e.tool.commit)).toEqual(['7c58067', 'a1b2c3d']);
    expect(table.entries[0]!.ratio).toBe(1);
    expect(table.entries[1]!.ratio).toBeCloseTo(Math.round(KWS_TOTAL * 0.8) / KWS_TOTAL, 12);
    expect(table.entries[1]!.latency).toMatchObject({ unit: 'instructions', median: Math.round(KWS_TOTAL * 0.8), msBasis: 'instructions-at-1-per-cycle' });
    expect(table.entries[1]).toMatchObject({ arenaBytes: 16_000, flashBytes: 61_952, ramBytes: 37_136, bitExact: true, mismatches: 0 });
    expect(table.notes).toEqual(['milliseconds of emulated runs are estimates at 1 instruction per cycle at the target clock']);
  });

  test('the same layers in every report: per-layer times side by side with ratios', () => {
    const table = compareReports([f405, m7]);
    expect(table.entries.map((e) => e.label)).toEqual(['#1', '#2']);
    expect(table.layers).toHaveLength(KWS_LAYERS.length);
    const first = table.layers![0]!;
    expect(first).toMatchObject({ index: 0, name: KWS_LAYERS[0]!.name, op: 'Conv2D', times: [1_120_400, 896_320] });
    expect(first.ratios[0]).toBe(1);
    expect(first.ratios[1]).toBeCloseTo(0.8, 12);
  });

  test('cycles and instructions are not divided by each other', () => {
    const table = compareReports([f405, board]);
    expect(table.entries[1]!.ratio).toBeNull();
    expect(table.layers![0]!.ratios).toEqual([1, null]);
    expect(table.notes[0]).toMatch(/different units/);
  });

  test('different models: ratios still given but flagged, and no per-layer comparison', () => {
    const table = compareReports([f405, autoencoder]);
    expect(table.entries[1]!.ratio).toBeCloseTo(600_000 / KWS_TOTAL, 12);
    expect(table.entries[1]).toMatchObject({ bitExact: false, mismatches: 1 });
    expect(table.layers).toBeUndefined();
    expect(table.notes).toContain('the reports are of different models: ratios compare different work');
    expect(table.notes).toContain('the reports ran different layers: no per-layer comparison');
  });

  test('needs at least one report', () => {
    expect(() => compareReports([])).toThrow();
  });
});

describe('comparison output', () => {
  const table = compareReports([f405, m7, board], ['f405.json', 'm7.json', 'f446.json']);
  const text = formatComparisonText(table, { color: false });
  const lines = text.split('\n');

  test('terminal: one column per report, one row per measure', () => {
    expect(text).not.toMatch(/\u001b\[/);
    expect(lines[0]).toBe('Comparing 3 deploy reports');
    expect(lines[1]).toMatch(/^\s+f405\.json\s+m7\.json\s+f446\.json$/);
    expect(text).toMatch(/^ {2}board\s+qemu-stm32f405 \(emulated\)\s+qemu-cortex-m7 \(emulated\)\s+nucleo-f446re$/m);
    expect(text).toMatch(/^ {2}tinyedge\s+0\.1\.0 7c58067\s+0\.1\.0 a1b2c3d\s+0\.1\.0 7c58067$/m);
    expect(text).toMatch(/^ {2}latency\s+7,701,940 instructions\s+6,161,552 instructions\s+8,472,134 cycles$/m);
    expect(text).toMatch(/^ {2}vs first\s+1\.00×\s+0\.80×\s+-$/m);
    expect(text).toMatch(/^ {2}ms\s+45\.84 ms \(estimate\)\s+28\.53 ms \(estimate\)\s+47\.07 ms$/m);
    expect(text).toMatch(/^ {2}bit-exact\s+yes\s+yes\s+yes$/m);
  });

  test('terminal: the per-layer table and the notes', () => {
    expect(text).toContain('layers (median times; ratio to the first report)');
    expect(text).toMatch(/^\s+0 {2}functional_1\S+\s+Conv2D\s+1,120,400\s+896,320 \(0\.80×\)\s+1,232,440$/m);
    expect(text).toContain('note: the reports are timed in different units');
  });

  test('terminal: a report that is not bit-exact stands out', () => {
    const mixed = formatComparisonText(compareReports([f405, autoencoder]), { color: true });
    expect(mixed).toContain('\u001b[1;31mNO (1 differ)\u001b[0m');
  });

  test('JSON: the table as a document', () => {
    const document = JSON.parse(comparisonJson(table));
    expect(document.schema).toBe('tinyedge.compare/1');
    expect(document.entries.map((e: { label: string }) => e.label)).toEqual(['f405.json', 'm7.json', 'f446.json']);
    expect(document.entries[2].ratio).toBeNull();
    expect(document.layers).toHaveLength(KWS_LAYERS.length);
  });
});

describe('loading reports', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tinyedge-report-load-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    const full = path.join(dir, name);
    writeFileSync(full, content);
    return full;
  };
  const withField = (edit: (document: Record<string, any>) => void) => {
    const document = JSON.parse(reportJson(f405));
    edit(document);
    return JSON.stringify(document);
  };

  /** The error a file gives: always a ReportFileError naming the file, one line, exit code for bad input. */
  async function failure(target: string): Promise<string> {
    const error = await loadReport(target).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ReportFileError);
    const reportError = error as ReportFileError;
    expect(reportError.file).toBe(target);
    expect(reportError.exitCode).toBe(ExitCode.input);
    expect(reportError.message.startsWith(`${target}: `)).toBe(true);
    expect(reportError.message).not.toContain('\n');
    return reportError.message.slice(target.length + 2);
  }

  test('a report written by deploy loads back unchanged, in the order given', async () => {
    const a = file('a.json', reportJson(f405));
    const b = file('b.json', reportJson(m7));
    const loaded = await loadReports([b, a]);
    expect(loaded.map((l) => l.file)).toEqual([b, a]);
    expect(loaded[0]!.report).toEqual(m7);
    expect(loaded[1]!.report).toEqual(f405);
  });

  test('unreadable files', async () => {
    expect(await failure(path.join(dir, 'missing.json'))).toBe('cannot read: no such file');
    const folder = path.join(dir, 'folder.json');
    mkdirSync(folder);
    expect(await failure(folder)).toBe('cannot read: it is a directory');
  });

  test('files that are not JSON', async () => {
    expect(await failure(file('empty.json', '  \n'))).toBe('empty file, not a deploy report');
    expect(await failure(file('text.json', 'latency: 5'))).toMatch(/^not JSON \(.+\)$/);
    expect(await failure(file('truncated.json', reportJson(f405).slice(0, 200)))).toMatch(/^not JSON \(/);
    expect(await failure(file('report.html', renderReportHtml(f405)))).toBe(
      'an HTML page, not a JSON deploy report (pass the .json report that deploy wrote)',
    );
  });

  test('JSON that is not a deploy report', async () => {
    expect(await failure(file('list.json', '[1, 2]'))).toBe('not a tinyedge deploy report (the JSON is a list, not an object)');
    expect(await failure(file('package.json', '{"name": "x", "version": "1.0.0"}'))).toBe(
      'not a tinyedge deploy report (no "schema": "tinyedge.deploy/1" field)',
    );
    expect(await failure(file('comparison.json', comparisonJson(compareReports([f405]))))).toBe(
      'not a tinyedge deploy report (schema "tinyedge.compare/1", expected "tinyedge.deploy/1")',
    );
  });

  test('a deploy report of another schema version', async () => {
    expect(await failure(file('future.json', withField((d) => (d.schema = 'tinyedge.deploy/2'))))).toBe(
      'deploy report schema "tinyedge.deploy/2" is not supported: this tinyedge reads "tinyedge.deploy/1"',
    );
  });

  test('a deploy report with a field missing or of the wrong type names the field', async () => {
    expect(await failure(file('median.json', withField((d) => (d.latency.median = 'fast'))))).toBe(
      'malformed deploy report: latency.median should be a number, found the string "fast"',
    );
    expect(await failure(file('layer.json', withField((d) => delete d.layers[3].time)))).toBe(
      'malformed deploy report: layers[3].time should be a number, found nothing',
    );
    expect(await failure(file('unit.json', withField((d) => (d.latency.unit = 'seconds'))))).toBe(
      'malformed deploy report: latency.unit should be one of "cycles", "instructions", found the string "seconds"',
    );
    expect(await failure(file('memory.json', withField((d) => (d.memory = null))))).toBe(
      'malformed deploy report: memory should be an object, found null',
    );
    expect(await failure(file('outputs.json', withField((d) => (d.outputs = {}))))).toBe(
      'malformed deploy report: outputs should be a list, found an object',
    );
  });

  test('loadReports stops at the first bad file and names it', async () => {
    const good = file('good.json', reportJson(f405));
    const bad = file('bad.json', '{}');
    await expect(loadReports([good, bad, path.join(dir, 'never-read.json')])).rejects.toThrow(`${bad}: not a tinyedge deploy report`);
  });
});
