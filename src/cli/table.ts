/** Plain-text tables for human output: columns padded to their widest cell, numbers right-aligned. */

export type Cell = string | number;

export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[], indent = '  '): string {
  const text = (cell: Cell) => (typeof cell === 'number' ? groupDigits(cell) : cell);
  const cells = [headers, ...rows.map((row) => row.map(text))];
  const numeric = headers.map((_, column) => rows.length > 0 && rows.every((row) => typeof row[column] === 'number'));
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells
    .map((row) =>
      indent +
      row
        .map((cell, column) => (numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** 2656768 -> "2,656,768". */
export function groupDigits(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : String(value);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
