/**
 * Activation ranges seen on the calibration set. min/max keeps the extremes; the percentile method builds a
 * histogram over those extremes (a second pass) and cuts both tails, so that a few outliers do not stretch the
 * scale for every other value.
 */

export interface Range {
  min: number;
  max: number;
}

export class MinMaxObserver {
  min = Infinity;
  max = -Infinity;

  update(values: ArrayLike<number>): void {
    let { min, max } = this;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      // NaN fails both comparisons and is ignored; ±Infinity would make the scale infinite, so it is ignored too.
      if (v < min && v !== -Infinity) min = v;
      if (v > max && v !== Infinity) max = v;
    }
    this.min = min;
    this.max = max;
  }

  range(): Range | undefined {
    return this.min <= this.max ? { min: this.min, max: this.max } : undefined;
  }
}

/** Bins of the percentile histogram: fine enough that one bin is far below one int8 step (1/255 of the range). */
export const HISTOGRAM_BINS = 2048;

export class HistogramObserver {
  private readonly counts = new Float64Array(HISTOGRAM_BINS);
  private total = 0;

  constructor(private readonly extremes: Range) {}

  update(values: ArrayLike<number>): void {
    const { min, max } = this.extremes;
    const width = (max - min) / HISTOGRAM_BINS;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      const bin = width > 0 ? Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor((v - min) / width))) : 0;
      this.counts[bin]!++;
      this.total++;
    }
  }

  /**
   * The range between the (100 - p)-th and p-th percentiles, interpolated inside the bin where each falls. An
   * empty histogram gives the extremes.
   */
  percentileRange(percentile: number): Range {
    const { min, max } = this.extremes;
    if (this.total === 0 || max <= min) return { ...this.extremes };
    const tail = ((100 - percentile) / 100) * this.total;
    return { min: this.valueAtCount(tail), max: this.valueAtCount(this.total - tail) };
  }

  /** The value below which `count` of the observations lie. */
  private valueAtCount(count: number): number {
    const { min, max } = this.extremes;
    const width = (max - min) / HISTOGRAM_BINS;
    let below = 0;
    for (let bin = 0; bin < HISTOGRAM_BINS; bin++) {
      const inBin = this.counts[bin]!;
      if (below + inBin >= count && inBin > 0) return min + width * (bin + (count - below) / inBin);
      below += inBin;
    }
    return max;
  }
}
