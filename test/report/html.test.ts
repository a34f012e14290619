import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { buildReport, renderReportHtml, type DeployReport } from '../../src/report/index.js';
import { CHART, compactNumber, latencyChart, niceTicks } from '../../src/report/html.js';
import { findChromium, INSTALL_CHROMIUM, loadPage, pngSize, screenshot } from './support/chromium.js';
import { KWS_LAYERS, kwsResult } from './support/kws-result.js';

const report = buildReport(kwsResult());
const html = renderReportHtml(report);

/** Layer and model names a hostile or unlucky model could carry. */
const HOSTILE_LAYER = '<script>alert(1)</script>';
const HOSTILE_IMAGE = `"><img src=x onerror="document.documentElement.setAttribute('data-injected','yes')">`;
function hostileReport(): DeployReport {
  const result = kwsResult();
  result.layers[0]!.name = HOSTILE_LAYER;
  result.layers[1]!.name = HOSTILE_IMAGE;
  result.model.path = `models/</title><script>document.documentElement.setAttribute('data-injected','path')</script>.tflite`;
  result.model.name = `kws' onmouseover='x`;
  result.outputs[0]!.name = '<b>scores</b>';
  return buildReport(result);
}

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;
const decodeEntities = (text: string) =>
  text.replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16))).replaceAll('&quot;', '"').replaceAll('&amp;', '&');
/** The <html> start tag, where the page's script leaves its marks. */
const rootTag = (dom: string) => /<html[^>]*>/.exec(dom)![0];

describe('the HTML report as text', () => {
  test('is one self-contained file: nothing loads from elsewhere', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(|@import|https?:\/\//i);
    expect(count(html, /<script\b/g)).toBe(1);
    expect(count(html, /<link\b/g)).toBe(0);
  });

  test('its Content-Security-Policy forbids every load and allows exactly its own inline script', () => {
    const policy = decodeEntities(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!);
    expect(policy).toMatch(/^default-src 'none';/);
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const hash = createHash('sha256').update(script, 'utf8').digest('base64');
    expect(policy).toContain(`script-src 'sha256-${hash}'`);
  });

  test('draws one bar per layer, widths in proportion to the layer times', () => {
    const bars = [...html.matchAll(/<rect class="layer-bar (\w+)" data-layer="(\d+)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)];
    expect(bars.map((b) => Number(b[2]))).toEqual([...KWS_LAYERS.keys()]);
    expect(bars.map((b) => b[1])).toEqual(KWS_LAYERS.map((l) => ({ Conv2D: 'conv', DepthwiseConv2D: 'depthwise', FullyConnected: 'dense', AveragePool2D: 'pool' })[l.op] ?? 'other'));
    const widths = bars.map((b) => Number(b[4]));
    const perUnit = widths[0]! / KWS_LAYERS[0]!.instructions;
    KWS_LAYERS.forEach((layer, i) => expect(widths[i]).toBeCloseTo(layer.instructions * perUnit, 0));
    // The axis runs to a round number at or past the slowest layer: 1.5M here, so the bars leave room for it.
    const span = CHART.width - CHART.labelWidth - CHART.valueWidth;
    expect(widths[0]).toBeCloseTo((1_120_400 / 1_500_000) * span, 0);
  });

  test('shows the latency summary, the verdict and the memory breakdown', () => {
    expect(html).toContain('<div class="value">7,701,940</div>');
    expect(html).toContain('<div class="value">45.84 ms</div>');
    expect(html).toContain('Time (estimate)');
    expect(html).toMatch(/<div class="verdict ok" data-bit-exact="true">\s*✓ bit-exact against the reference \(12 output values\)/);
    const parts = [...html.matchAll(/<rect class="memory-segment [\w-]+" data-part="([\w-]+)" x="([\d.]+)" y="0" width="([\d.]+)"/g)];
    expect(parts.map((p) => p[1])).toEqual(['code', 'weights', 'arena', 'stack', 'other-ram']);
    // Each bar splits its used bytes over the full width.
    expect(Number(parts[0]![3]) + Number(parts[1]![3])).toBeCloseTo(960, 0);
    expect(Number(parts[1]![2])).toBeCloseTo(Number(parts[0]![3]), 0);
    expect(html).toContain('60.5 KB of 1 MB (5.9%)');
  });

  test('a failed validation is shown as such', () => {
    const failed = renderReportHtml(
      buildReport(kwsResult({ outputs: [{ name: 'o', dtype: 'int8', shape: [2], device: Int8Array.from([1, 2]), reference: Int8Array.from([1, 3]) }] })),
    );
    expect(failed).toMatch(/<div class="verdict failed" data-bit-exact="false">\s*✗ NOT bit-exact: 1 of 2 output values differ/);
  });

  test('escapes every model-derived string', () => {
    const page = renderReportHtml(hostileReport());
    expect(count(page, /<script\b/g)).toBe(1);
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<b>scores');
    expect(page).not.toContain("kws' onmouseover");
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;');
  });
});

describe('chart scales', () => {
  test('niceTicks: about five steps of 1, 2 or 5 times a power of ten, ending at or past the maximum', () => {
    expect(niceTicks(1_120_400)).toEqual({ max: 1_500_000, ticks: [0, 500_000, 1_000_000, 1_500_000] });
    expect(niceTicks(100)).toEqual({ max: 100, ticks: [0, 20, 40, 60, 80, 100] });
    expect(niceTicks(7)).toEqual({ max: 8, ticks: [0, 2, 4, 6, 8] });
    expect(niceTicks(0)).toEqual({ max: 0, ticks: [0] });
  });

  test('compactNumber', () => {
    expect([0, 40, 2_500, 500_000, 1_500_000, 2e9].map(compactNumber)).toEqual(['0', '40', '2.5k', '500k', '1.5M', '2G']);
  });

  test('a report whose layers all took no time still draws (empty bars, no division by zero)', () => {
    const runs = [{ total: 0, layers: KWS_LAYERS.map(() => 0) }];
    const chart = latencyChart(buildReport(kwsResult({ timing: { unit: 'instructions', warmups: 0, runs } })));
    expect(chart.rows.every((row) => row.width === 0 && Number.isFinite(row.valueX))).toBe(true);
  });
});

// A real browser: the page must parse, run its script under its own CSP without a single console message, and
// never execute what a model name smuggles in. In CI the browser is installed (.ci/run), so the test must run there.
const chromium = findChromium();
const requireBrowser = process.env.CI === 'true' && !chromium;

describe.skipIf(!chromium && !requireBrowser)(`the HTML report in headless Chromium (skipped without it: ${INSTALL_CHROMIUM})`, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tinyedge-report-html-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, content: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    return file;
  };

  test('renders: its script ran to the end, found one bar per layer, and nothing was logged', async () => {
    expect(chromium, `chromium is required in CI: ${INSTALL_CHROMIUM}`).toBeDefined();
    const page = await loadPage(chromium!, write('kws.html', html));
    expect(page.console).toEqual([]);
    expect(rootTag(page.dom)).toBe('<html lang="en" data-layer-bars="13" data-report-ready="yes">');
    expect(count(page.dom, /<rect class="layer-bar /g)).toBe(KWS_LAYERS.length);
    expect(count(page.dom, /<tr data-layer="/g)).toBe(KWS_LAYERS.length);
  });

  test('a hostile model name stays text: nothing injected runs or loads, and the structure is intact', async () => {
    const page = await loadPage(chromium!, write('hostile.html', renderReportHtml(hostileReport())));
    expect(page.console).toEqual([]);
    expect(rootTag(page.dom)).toBe('<html lang="en" data-layer-bars="13" data-report-ready="yes">');
    expect(page.dom).not.toMatch(/\sdata-injected=/);
    expect(count(page.dom, /<script\b/g)).toBe(1);
    expect(count(page.dom, /<img\b/g)).toBe(0);
    expect(page.dom).toContain('<td class="name mono">&lt;script&gt;alert(1)&lt;/script&gt;</td>');
  });

  test('a page whose script was altered is refused by its own policy (the check above can fail)', async () => {
    const tampered = html.replace("root.setAttribute('data-report-ready', 'yes');", "root.setAttribute('data-report-ready', 'tampered');");
    expect(tampered).not.toBe(html);
    const page = await loadPage(chromium!, write('tampered.html', tampered));
    expect(rootTag(page.dom)).toBe('<html lang="en">');
    expect(page.console.join('\n')).toContain('Content Security Policy');
  });

  test('takes a screenshot of the page at the requested size', async () => {
    const png = path.join(dir, 'kws.png');
    await screenshot(chromium!, write('shot.html', html), png, { width: 1100, height: 1600 });
    expect(pngSize(readFileSync(png))).toEqual({ width: 1100, height: 1600 });
  });
});
