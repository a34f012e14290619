/**
 * Loop nests for the data-movement and broadcasting kernels: an output walked in row-major order, each operand
 * advanced by its own stride per axis (0 along a broadcast axis). Neighbouring axes that every operand walks
 * contiguously are merged, so a same-shape Add is one flat loop and a transpose keeps only the axes it really moves.
 */

export interface LoopAxis {
  extent: number;
  /** Element stride of each operand along this axis. */
  strides: number[];
}

/** Drops size-1 axes and merges axis i into i+1 wherever every operand's stride allows it. Always at least one axis. */
export function mergeAxes(extents: readonly number[], operandStrides: readonly (readonly number[])[]): LoopAxis[] {
  const axes: LoopAxis[] = [];
  extents.forEach((extent, axis) => {
    if (extent !== 1) axes.push({ extent, strides: operandStrides.map((s) => s[axis]!) });
  });
  const merged: LoopAxis[] = [];
  for (const axis of axes) {
    const previous = merged[merged.length - 1];
    if (previous && previous.strides.every((s, k) => s === axis.strides[k]! * axis.extent)) {
      previous.extent *= axis.extent;
      previous.strides = axis.strides;
    } else {
      merged.push({ extent: axis.extent, strides: [...axis.strides] });
    }
  }
  return merged.length > 0 ? merged : [{ extent: 1, strides: operandStrides.map(() => 0) }];
}

/** Template view of a loop nest: `i<k>` loop variables with per-operand strides named a, b, c... */
export function loopView(axes: readonly LoopAxis[], operandNames: readonly string[]) {
  return axes.map((axis, index) => ({
    index,
    extent: axis.extent,
    ...Object.fromEntries(operandNames.map((name, k) => [name, axis.strides[k]!])),
  }));
}
