/** The few terminal styles the report views use, or none (not a TTY, NO_COLOR): see shouldColor in terminal.ts. */

export interface Palette {
  bold(text: string): string;
  dim(text: string): string;
  good(text: string): string;
  bad(text: string): string;
  bar(text: string): string;
}

const sgr = (code: string) => (text: string) => `\u001b[${code}m${text}\u001b[0m`;
const identity = (text: string) => text;

const COLORS: Palette = { bold: sgr('1'), dim: sgr('2'), good: sgr('32'), bad: sgr('1;31'), bar: sgr('36') };
const PLAIN: Palette = { bold: identity, dim: identity, good: identity, bad: identity, bar: identity };

export function palette(color: boolean): Palette {
  return color ? COLORS : PLAIN;
}
