/**
 * `inspect` reports what the optimization passes make of a model before code generation: the pruned channels of the
 * MLPerf VWW model (all-zero weights and bias left in the graph by training) are removed, and the MACs saved shown.
 */
import { describe, expect, it } from 'vitest';
import { hasShared, sharedModel, tinyedge } from './cli-harness.js';

describe.skipIf(!hasShared)('tinyedge inspect: the optimized graph', () => {
  it('VWW: pruned channels removed, fewer MACs and parameter bytes, sparsity per layer', () => {
    const result = tinyedge(['inspect', sharedModel('mlperf-tiny/vww_96_int8.tflite'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.macs).toBe(7_489_664);
    expect(report.optimized.macs).toBeLessThan(report.macs);
    expect(report.optimized.pruning.removedChannels).toBeGreaterThan(0);
    expect(report.optimized.pruning.macsSaved).toBe(report.macs - report.optimized.macs);
    expect(report.optimized.paramBytes).toBeLessThan(report.paramBytes);
    expect(report.optimized.sparsity.length).toBeGreaterThan(0);
    for (const layer of report.optimized.sparsity) expect(layer.sparsity).toBeGreaterThanOrEqual(0);

    const text = tinyedge(['inspect', sharedModel('mlperf-tiny/vww_96_int8.tflite')]);
    expect(text.stdout).toMatch(/pruned channels removed: \d+ in \d+ layers, saving [\d,]+ MACs/);
  });

  it('KWS: nothing to prune, the optimized MACs equal the model\'s', () => {
    const result = tinyedge(['inspect', sharedModel('mlperf-tiny/kws_ref_model.tflite'), '--json']);
    const report = JSON.parse(result.stdout);
    expect(report.optimized.macs).toBe(report.macs);
    expect(report.optimized.pruning.removedChannels).toBe(0);
  });
});
