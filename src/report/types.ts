/**
 * The deployment report: what `tinyedge deploy` hands to the report stage (DeployResult: raw measurements, typed
 * arrays, every run), and what it writes (DeployReport: the versioned JSON document that the terminal view, the HTML
 * page and `tinyedge report` comparisons are all rendered from).
 *
 * Reading a report: times are in `latency.unit`: core cycles on a board with a cycle counter, or executed
 * instructions on an emulated board (QEMU under -icount models no pipeline or wait states, so it counts
 * instructions). Milliseconds are derived from the median; for instruction counts they are an estimate that assumes
 * one instruction per cycle at the target's clock (`latency.msBasis` says which).
 */
import type { DataType, TensorData } from '../ir/types.js';

export const DEPLOY_REPORT_SCHEMA = 'tinyedge.deploy/1';

/** Units a report can time in. A device without a timer ('none' in the protocol) cannot produce a report. */
export type LatencyUnit = 'cycles' | 'instructions';

// ---------------------------------------------------------------------------------------------------------------
// Input: what the deploy pipeline measured.

export interface DeployResult {
  model: {
    /** The model file as the user named it. */
    path: string;
    /** Hex sha-256 of the model file (64 digits; the library's `hash` is its first 16). */
    sha256: string;
    /** Graph name (codegen's prefix is derived from it). */
    name: string;
    /** Totals of src/ir/cost.ts graphCost(). */
    macs: number;
    paramBytes: number;
  };
  /** A full `Target` fits here. */
  target: {
    name: string;
    core: string;
    /** The clock the target description runs the core at. */
    clockHz: number;
    emulated: boolean;
    /** The clock the firmware reported (HELLO): differs when the PLL did not lock (always in QEMU). */
    deviceClockHz?: number;
  };
  /** Sizes of the linked firmware (src/build/firmware.ts FirmwareSizes), plus what the model library holds. */
  memory: {
    text: number;
    data: number;
    bss: number;
    flashUsed: number;
    flashSize: number;
    ramUsed: number;
    ramSize: number;
    stackBytes: number;
    /** The model library's activation arena (codegen's plan.arenaBytes). */
    arenaBytes: number;
    /** Weights, biases, requantization constants and tables in flash (codegen's constantBytes). */
    weightsBytes: number;
  };
  /** The layers in the firmware's order (layer i of the timing is layers[i]), with their MACs from graphCost. */
  layers: { name: string; op: string; macs: number }[];
  /** DeviceLink.run()'s result (its unit narrowed: a timer must exist) and the warm-ups asked for. */
  timing: {
    unit: LatencyUnit;
    warmups: number;
    runs: { total: number; layers: number[] }[];
  };
  /**
   * Each graph output as the device produced it and as the reference interpreter computed it for the same inputs,
   * both in the output's external dtype (what the user gets).
   */
  outputs: { name: string; dtype: DataType; shape: number[]; device: TensorData; reference: TensorData }[];
  /** When the deploy compared intermediate tensors too: the first layer whose output differed. */
  firstDivergingLayer?: string;
  tool: { version: string; commit?: string; date: string };
}

// ---------------------------------------------------------------------------------------------------------------
// Output: the JSON document (schema tinyedge.deploy/1). Only JSON values: no NaN, no Infinity, no undefined.

export interface DeployReport {
  schema: typeof DEPLOY_REPORT_SCHEMA;
  model: {
    path: string;
    name: string;
    sha256: string;
    macs: number;
    paramBytes: number;
  };
  target: {
    name: string;
    core: string;
    clockHz: number;
    emulated: boolean;
  };
  memory: MemoryReport;
  latency: LatencyReport;
  layers: LayerReport[];
  validation: ValidationReport;
  /** The device's outputs in their external dtype, flat in row-major order (a float NaN is null). */
  outputs: { name: string; dtype: DataType; shape: number[]; data: (number | null)[] }[];
  tool: { version: string; commit?: string; date: string };
}

export interface MemoryReport {
  /** Bytes stored in flash: code, constants, weights, initial values of data. */
  flashBytes: number;
  /** Bytes of RAM occupied: data, bss, the arena and the stack. */
  ramBytes: number;
  arenaBytes: number;
  stackBytes: number;
  /** Flash holding the model's constants. */
  weightsBytes: number;
  /** The rest of the flash: kernels, firmware, C library, initial values (flashBytes - weightsBytes). */
  codeBytes: number;
  /** RAM besides the arena and the stack: firmware state, input/output buffers, library data. */
  otherRamBytes: number;
  /** As `size` counts them. */
  text: number;
  data: number;
  bss: number;
  flashCapacity: number;
  ramCapacity: number;
}

export interface LatencyReport {
  unit: LatencyUnit;
  /** Timed runs (samples.length) and untimed warm-up runs before them. */
  runs: number;
  warmups: number;
  min: number;
  median: number;
  max: number;
  /** Whole-inference time of each timed run, in run order. */
  samples: number[];
  /** median / MACs. */
  perMac: number | null;
  /** Median of (total - sum of layer times) per run: the run function around the layers and the timing hooks. */
  outsideLayers: number;
  /** The median in milliseconds at msClockHz. */
  ms: number;
  msClockHz: number;
  /** 'cycles': measured cycles at the running clock; 'instructions-at-1-per-cycle': an estimate. */
  msBasis: 'cycles' | 'instructions-at-1-per-cycle';
}

export interface LayerReport {
  /** Position in execution order (the firmware's layer index). */
  index: number;
  name: string;
  op: string;
  macs: number;
  /** Median over the timed runs, in latency.unit. */
  time: number;
  /** time / latency.median (0..1). */
  share: number;
  /** time / macs; null for layers without MACs. */
  perMac: number | null;
}

export interface ValidationReport {
  against: 'reference';
  bitExact: boolean;
  /** Output elements compared, over all outputs. */
  compared: number;
  mismatches: number;
  maxAbsDiff: number;
  firstDivergingLayer?: string;
}
