/**
 * DeployResult -> DeployReport: the derived numbers (medians, shares, time per MAC, milliseconds, memory split,
 * output comparison). Pure: the same result always gives the same report.
 */
import type { TensorData } from '../ir/types.js';
import {
  DEPLOY_REPORT_SCHEMA,
  type DeployReport,
  type DeployResult,
  type LatencyReport,
  type LayerReport,
  type MemoryReport,
  type ValidationReport,
} from './types.js';

export function buildReport(result: DeployResult): DeployReport {
  checkConsistent(result);
  const latency = latencyReport(result);
  return {
    schema: DEPLOY_REPORT_SCHEMA,
    model: {
      path: result.model.path,
      name: result.model.name,
      sha256: result.model.sha256,
      macs: result.model.macs,
      paramBytes: result.model.paramBytes,
    },
    target: {
      name: result.target.name,
      core: result.target.core,
      clockHz: result.target.clockHz,
      emulated: result.target.emulated,
    },
    memory: memoryReport(result),
    latency,
    layers: layerReports(result, latency.median),
    validation: validationReport(result),
    outputs: result.outputs.map((output) => ({
      name: output.name,
      dtype: output.dtype,
      shape: [...output.shape],
      data: numbersOf(output.device).map((v) => (Number.isNaN(v) ? null : v)),
    })),
    tool: {
      version: result.tool.version,
      ...(result.tool.commit !== undefined ? { commit: result.tool.commit } : {}),
      date: result.tool.date,
    },
  };
}

/** The JSON file `deploy` writes: two-space indented, one trailing newline. */
export function reportJson(report: DeployReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The middle value; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A result that does not hang together is a bug in the deploy pipeline, not a user mistake: plain Errors. */
function checkConsistent(result: DeployResult): void {
  const { runs } = result.timing;
  if (runs.length === 0) throw new Error('the deploy result has no timed runs');
  for (const [i, run] of runs.entries()) {
    if (run.layers.length !== result.layers.length) {
      throw new Error(`timed run ${i} has ${run.layers.length} layer times for ${result.layers.length} layers`);
    }
  }
  for (const output of result.outputs) {
    if (output.device.length !== output.reference.length) {
      throw new Error(`output '${output.name}': the device gave ${output.device.length} values, the reference ${output.reference.length}`);
    }
  }
}

function latencyReport(result: DeployResult): LatencyReport {
  const { unit, warmups, runs } = result.timing;
  const samples = runs.map((run) => run.total);
  const middle = median(samples);
  // Measured cycles convert at the clock the core actually ran; an instruction count has no clock of its own, so
  // it is converted at the target's intended clock as if each instruction took one cycle.
  const msClockHz = unit === 'cycles' ? (result.target.deviceClockHz ?? result.target.clockHz) : result.target.clockHz;
  return {
    unit,
    runs: runs.length,
    warmups,
    min: Math.min(...samples),
    median: middle,
    max: Math.max(...samples),
    samples,
    perMac: result.model.macs > 0 ? middle / result.model.macs : null,
    outsideLayers: median(runs.map((run) => run.total - run.layers.reduce((sum, t) => sum + t, 0))),
    ms: (middle / msClockHz) * 1000,
    msClockHz,
    msBasis: unit === 'cycles' ? 'cycles' : 'instructions-at-1-per-cycle',
  };
}

function layerReports(result: DeployResult, medianTotal: number): LayerReport[] {
  return result.layers.map((layer, index) => {
    const time = median(result.timing.runs.map((run) => run.layers[index]!));
    return {
      index,
      name: layer.name,
      op: layer.op,
      macs: layer.macs,
      time,
      share: medianTotal > 0 ? time / medianTotal : 0,
      perMac: layer.macs > 0 ? time / layer.macs : null,
    };
  });
}

function memoryReport(result: DeployResult): MemoryReport {
  const m = result.memory;
  return {
    flashBytes: m.flashUsed,
    ramBytes: m.ramUsed,
    arenaBytes: m.arenaBytes,
    stackBytes: m.stackBytes,
    weightsBytes: m.weightsBytes,
    codeBytes: Math.max(0, m.flashUsed - m.weightsBytes),
    otherRamBytes: Math.max(0, m.ramUsed - m.arenaBytes - m.stackBytes),
    text: m.text,
    data: m.data,
    bss: m.bss,
    flashCapacity: m.flashSize,
    ramCapacity: m.ramSize,
  };
}

function validationReport(result: DeployResult): ValidationReport {
  let compared = 0;
  let mismatches = 0;
  let maxAbsDiff = 0;
  for (const output of result.outputs) {
    const device = numbersOf(output.device);
    const reference = numbersOf(output.reference);
    for (let i = 0; i < device.length; i++) {
      compared++;
      const a = device[i]!;
      const b = reference[i]!;
      if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
      mismatches++;
      const diff = Math.abs(a - b);
      // A NaN on one side only is as far off as a value can be; JSON cannot hold Infinity, so it saturates.
      maxAbsDiff = Math.max(maxAbsDiff, Number.isFinite(diff) ? diff : Number.MAX_VALUE);
    }
  }
  return {
    against: 'reference',
    bitExact: mismatches === 0,
    compared,
    mismatches,
    maxAbsDiff,
    ...(result.firstDivergingLayer !== undefined ? { firstDivergingLayer: result.firstDivergingLayer } : {}),
  };
}

function numbersOf(data: TensorData): number[] {
  return Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
}
