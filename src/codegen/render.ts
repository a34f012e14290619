/**
 * The Handlebars environment that turns TypeScript decisions into C text. Templates live in templates/ at the
 * package root and are compiled strict (a missing field is an error, not an empty string) and without HTML escaping:
 * every string value handed to a template is either a number, an identifier built from indices, or a literal already
 * escaped for C (names.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

/** templates/ beside src/ (and beside dist/ once built). */
export const TEMPLATES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../templates');

const INT32_MIN = -2147483648;

/** A C integer literal; INT32_MIN has no literal of type int, so it is written as an expression. */
export function cInt(value: number): string {
  if (!Number.isInteger(value)) throw new Error(`not an integer constant: ${value}`);
  return value === INT32_MIN ? '(-2147483647 - 1)' : String(value);
}

/** Array initializer body: `perLine` values a line, each line indented by four spaces. */
function intList(values: ArrayLike<number>, perLine: number): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    const row: string[] = [];
    for (let j = i; j < Math.min(i + perLine, values.length); j++) row.push(cInt(values[j]!));
    lines.push(`    ${row.join(', ')}`);
  }
  return lines.join(',\n');
}

/** float32 values as C float literals that round-trip exactly (9 significant digits). */
function floatList(values: ArrayLike<number>, perLine: number): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += perLine) {
    const row: string[] = [];
    for (let j = i; j < Math.min(i + perLine, values.length); j++) row.push(cFloat(values[j]!));
    lines.push(`    ${row.join(', ')}`);
  }
  return lines.join(',\n');
}

export function cFloat(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite float constant: ${value}`);
  const text = Math.fround(value).toPrecision(9);
  return `${text.includes('e') || text.includes('.') ? text : `${text}.0`}f`;
}

function createEnvironment(): typeof Handlebars {
  const env = Handlebars.create();
  env.registerHelper('int_list', (values: ArrayLike<number>, perLine: unknown) =>
    intList(values, typeof perLine === 'number' ? perLine : 16),
  );
  env.registerHelper('float_list', (values: ArrayLike<number>, perLine: unknown) =>
    floatList(values, typeof perLine === 'number' ? perLine : 8),
  );
  env.registerHelper('c_int', (value: number) => cInt(value));
  env.registerHelper('c_float', (value: number) => cFloat(value));
  env.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  env.registerHelper('ne', (a: unknown, b: unknown) => a !== b);
  env.registerHelper('gt', (a: number, b: number) => a > b);
  env.registerHelper('not', (a: unknown) => !a);
  env.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
  env.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  for (const folder of ['library', 'kernels', 'kernels/dsp']) {
    const partials = path.join(TEMPLATES_DIR, folder, 'partials');
    for (const file of readdirSync(partials)) {
      if (file.endsWith('.hbs')) env.registerPartial(file.replace(/\..*$/, ''), readFileSync(path.join(partials, file), 'utf8'));
    }
  }
  return env;
}

let environment: typeof Handlebars | undefined;
const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** Renders templates/<relativePath> with `context`. */
export function renderTemplate(relativePath: string, context: object): string {
  environment ??= createEnvironment();
  let template = compiled.get(relativePath);
  if (!template) {
    const source = readFileSync(path.join(TEMPLATES_DIR, relativePath), 'utf8');
    template = environment.compile(source, { noEscape: true, strict: true });
    compiled.set(relativePath, template);
  }
  return template(context);
}
