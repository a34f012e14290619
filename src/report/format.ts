/**
 * How report numbers read, the same in the terminal, the HTML page and comparisons: "7,697,228", "14.6%",
 * "45.82 ms", "110.3 KB", and the sentences that qualify them (what a millisecond figure rests on, the verdict).
 */
import { formatBytes } from '../build/firmware-fit.js';
import type { LatencyReport, ValidationReport } from './types.js';

export { formatBytes };

/** 7697228 -> "7,697,228"; a median of an even count may end in .5: one decimal then. */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: Number.isInteger(value) ? 0 : 1 });
}

/** Integer outputs differ by whole steps; float outputs by fractions. */
export function formatDifference(value: number): string {
  return Number.isInteger(value) ? formatCount(value) : String(Number(value.toPrecision(4)));
}

/** 0.1459 -> "14.6%". */
export function formatPercent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** Time per MAC: "2.90"; layers without MACs have none. */
export function formatPerMac(perMac: number | null): string {
  return perMac === null ? '-' : perMac.toFixed(2);
}

/** Enough digits to compare runs, not more than the clock assumption supports. */
export function formatMs(ms: number): string {
  const digits = ms < 1 ? 3 : ms < 100 ? 2 : 1;
  return `${ms.toFixed(digits)} ms`;
}

/** 168000000 -> "168 MHz". */
export function formatClock(hz: number): string {
  if (hz >= 1e6) return `${Number((hz / 1e6).toFixed(2))} MHz`;
  if (hz >= 1e3) return `${Number((hz / 1e3).toFixed(2))} kHz`;
  return `${hz} Hz`;
}

/** The first 16 hex digits: what the generated library's `hash` holds, enough to tell models apart. */
export function shortHash(sha256: string): string {
  return sha256.slice(0, 16);
}

/** What the millisecond figure rests on, in words. */
export function msBasisText(latency: LatencyReport): string {
  return latency.msBasis === 'cycles'
    ? `measured cycles at ${formatClock(latency.msClockHz)}`
    : `estimate: 1 instruction per cycle at ${formatClock(latency.msClockHz)} (an emulator counts instructions, not cycles)`;
}

/** One line: the device's outputs against the reference interpreter's. */
export function verdictText(validation: ValidationReport): string {
  const values = `${formatCount(validation.compared)} output value${validation.compared === 1 ? '' : 's'}`;
  if (validation.bitExact) return `bit-exact against the reference (${values})`;
  const diverging = validation.firstDivergingLayer !== undefined ? `; first diverging layer '${validation.firstDivergingLayer}'` : '';
  return (
    `NOT bit-exact: ${formatCount(validation.mismatches)} of ${values} differ from the reference ` +
    `(max |difference| ${formatDifference(validation.maxAbsDiff)})${diverging}`
  );
}
