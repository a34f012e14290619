/**
 * Plain-text columns for the terminal views: each column padded to its widest cell, then (optionally) styled, so
 * colour codes never upset the alignment.
 */

export type Align = 'left' | 'right';

/** Styles a cell after padding: (row index, column index, padded text) -> text to print. */
export type CellStyle = (row: number, column: number, padded: string) => string;

/** Code points, not UTF-16 units: bar glyphs and the ellipsis count as one column. */
export function displayWidth(text: string): number {
  return [...text].length;
}

export function textTable(rows: readonly (readonly string[])[], align: readonly Align[], style?: CellStyle, indent = '  '): string[] {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(0, ...rows.map((row) => displayWidth(row[c] ?? ''))));
  return rows.map((row, r) => {
    // Trailing empty cells and the padding after the last cell are dropped before styling: no trailing blanks.
    let last = columns - 1;
    while (last >= 0 && (row[last] ?? '') === '') last--;
    const cells = widths.slice(0, last + 1).map((width, c) => {
      const text = row[c] ?? '';
      const gap = ' '.repeat(width - displayWidth(text));
      const padded = align[c] === 'right' ? gap + text : c === last ? text : text + gap;
      return style ? style(r, c, padded) : padded;
    });
    return indent + cells.join('  ');
  });
}

/** Keeps the start and the end of a long name (where layer names differ), dropping the middle. */
export function shortenMiddle(text: string, maxWidth: number): string {
  const chars = [...text];
  if (chars.length <= maxWidth) return text;
  const head = Math.ceil((maxWidth - 1) / 2);
  const tail = maxWidth - 1 - head;
  return `${chars.slice(0, head).join('')}…${tail > 0 ? chars.slice(-tail).join('') : ''}`;
}
