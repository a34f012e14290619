import { describe, expect, test } from 'vitest';
import { buildReport, formatReportText, shouldColor } from '../../src/report/index.js';
import { shareBar } from '../../src/report/terminal.js';
import { KWS_LAYERS, kwsResult } from './support/kws-result.js';

const ANSI = /\u001b\[[0-9;]*m/g;
const report = buildReport(kwsResult());
const text = formatReportText(report, { color: false });
const lines = text.split('\n');

describe('the terminal report', () => {
  test('has no escape codes when colour is off', () => {
    expect(text).not.toMatch(ANSI);
  });

  test('opens with what was deployed where, then the totals', () => {
    expect(lines[0]).toBe('Deployed models/kws_ref_model.tflite to qemu-stm32f405 (cortex-m4 at 168 MHz, emulated)');
    expect(text).toContain('sha256 5f9a4c2b0e7d13a8, 2,656,768 MACs');
    expect(text).toMatch(/^latency {2}7,701,940 instructions \(median of 3 runs; min 7,701,940, max 7,701,940; 1 warm-up\)$/m);
    expect(text).toContain('45.84 ms  estimate: 1 instruction per cycle at 168 MHz');
    expect(text).toContain('2.90 instructions per MAC');
  });

  test('lists every layer once, in execution order, after the totals', () => {
    const latencyAt = lines.findIndex((line) => line.startsWith('latency'));
    const rowAt = KWS_LAYERS.map((layer, i) =>
      lines.findIndex((line) => new RegExp(`^\\s+${i}  `).test(line) && line.includes(layer.op)),
    );
    expect(rowAt.every((at) => at > latencyAt)).toBe(true);
    expect(rowAt).toEqual([...rowAt].sort((a, b) => a - b));
    expect(new Set(rowAt).size).toBe(KWS_LAYERS.length);
    const pointwise = lines[rowAt[2]!]!;
    expect(pointwise).toMatch(/Conv2D\s+512,000\s+1,070,001\s+13\.9%\s+█+▏?\s+2\.09$/);
    expect(lines[rowAt[12]!]).toMatch(/^\s+12 {2}Identity\s+Softmax\s+0\s+2,480\s+0\.0%\s+-$/);
  });

  test('ends the layer table with the time outside layers and the total', () => {
    expect(text).toMatch(/^\s+outside layers\s+1,300\s+0\.0%$/m);
    expect(text).toMatch(/^\s+total\s+2,656,768\s+7,701,940\s+100\.0%\s+2\.90$/m);
  });

  test('shows a long fused TFLite layer name by its first part', () => {
    const row = lines.find((line) => /^\s+1 {2}/.test(line))!;
    expect(row).toMatch(/^\s+1 {2}functional_1\/activation_1\/Relu;… +DepthwiseConv2D /);
  });

  test('breaks down memory and ends with the validation verdict', () => {
    expect(text).toMatch(/^ {2}flash {2}60\.5 KB of 1 MB \(5\.9%\)\s+code 35\.7 KB, weights 24\.8 KB$/m);
    expect(text).toMatch(/^ {2}RAM {4}36\.3 KB of 128 KB \(28\.3%\)\s+arena 15\.6 KB, stack 4 KB, other 16\.6 KB$/m);
    expect(text).toContain('sections: text 61,840 B, data 112 B, bss 37,024 B');
    expect(lines.at(-2)).toBe('validation  bit-exact against the reference (12 output values)');
  });

  test('a failed validation says how much differs and where it started', () => {
    const failed = buildReport(
      kwsResult({
        outputs: [{ name: 'Identity', dtype: 'int8', shape: [3], device: Int8Array.from([1, 2, 3]), reference: Int8Array.from([1, 5, 4]) }],
        firstDivergingLayer: 'functional_1/dense/BiasAdd',
      }),
    );
    expect(formatReportText(failed, { color: false })).toContain(
      "validation  NOT bit-exact: 2 of 3 output values differ from the reference (max |difference| 3); first diverging layer 'functional_1/dense/BiasAdd'",
    );
  });

  test('cycles on a real board are not called an estimate', () => {
    const board = buildReport(
      kwsResult({
        target: { name: 'nucleo-l4r5zi', core: 'cortex-m4', clockHz: 120_000_000, emulated: false },
        timing: { ...kwsResult().timing, unit: 'cycles' },
      }),
    );
    const boardText = formatReportText(board, { color: false });
    expect(boardText).toContain('64.18 ms  measured cycles at 120 MHz');
    expect(boardText).not.toContain('estimate');
    expect(boardText).not.toContain('emulated');
  });

  test('with colour: the same text and alignment once the escape codes are removed', () => {
    const colored = formatReportText(report, { color: true });
    expect(colored).toMatch(ANSI);
    expect(colored.replace(ANSI, '')).toBe(text);
  });
});

describe('share bars', () => {
  test('the slowest layer fills the width; others are in proportion, to an eighth of a column', () => {
    expect(shareBar(1, 4)).toBe('████');
    expect(shareBar(0.5, 4)).toBe('██');
    expect(shareBar(1 / 32, 4)).toBe('▏');
    expect(shareBar(0, 4)).toBe('');
    const slowest = lines.find((line) => /^\s+0 {2}/.test(line))!;
    expect(slowest).toContain('█'.repeat(20));
  });
});

describe('shouldColor', () => {
  test('only on a TTY, and never when NO_COLOR is set or the terminal is dumb', () => {
    expect(shouldColor({ isTTY: true }, {})).toBe(true);
    expect(shouldColor({ isTTY: false }, {})).toBe(false);
    expect(shouldColor({}, {})).toBe(false);
    expect(shouldColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    // no-color.org: an empty NO_COLOR does not count.
    expect(shouldColor({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(shouldColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });
});
