/**
 * Reading deploy reports back (`tinyedge report a.json b.json`): every way a file can be unusable ends in one line
 * that names the file: unreadable, not JSON, not a deploy report, another schema version, a field missing or of the
 * wrong type.
 */
import { readFile } from 'node:fs/promises';
import { ReportFileError } from './errors.js';
import { DEPLOY_REPORT_SCHEMA, type DeployReport } from './types.js';

export interface LoadedReport {
  file: string;
  report: DeployReport;
}

export async function loadReports(files: readonly string[]): Promise<LoadedReport[]> {
  const loaded: LoadedReport[] = [];
  for (const file of files) loaded.push({ file, report: await loadReport(file) });
  return loaded;
}

export async function loadReport(file: string): Promise<DeployReport> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ReportFileError(file, `cannot read: ${readFailure(error as NodeJS.ErrnoException)}`);
  }
  return parseReport(text, file);
}

function readFailure(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return firstLine(error.message);
  }
}

/** `text` is the content of `file` (named in errors). */
export function parseReport(text: string, file: string): DeployReport {
  const content = text.replace(/^\uFEFF/, '').trim();
  if (content === '') throw new ReportFileError(file, 'empty file, not a deploy report');
  if (content.startsWith('<')) {
    throw new ReportFileError(file, 'an HTML page, not a JSON deploy report (pass the .json report that deploy wrote)');
  }
  let document: unknown;
  try {
    document = JSON.parse(content);
  } catch (error) {
    throw new ReportFileError(file, `not JSON (${firstLine((error as Error).message)})`);
  }
  checkSchema(document, file);
  const problem = shapeProblem(document);
  if (problem) throw new ReportFileError(file, `malformed deploy report: ${problem}`);
  return document as unknown as DeployReport;
}

function checkSchema(document: unknown, file: string): asserts document is Record<string, unknown> {
  if (!isRecord(document)) throw new ReportFileError(file, `not a tinyedge deploy report (the JSON is ${describe(document)}, not an object)`);
  const schema = document.schema;
  if (schema === DEPLOY_REPORT_SCHEMA) return;
  if (schema === undefined) throw new ReportFileError(file, `not a tinyedge deploy report (no "schema": "${DEPLOY_REPORT_SCHEMA}" field)`);
  if (typeof schema === 'string' && schema.startsWith('tinyedge.deploy/')) {
    throw new ReportFileError(file, `deploy report schema "${schema}" is not supported: this tinyedge reads "${DEPLOY_REPORT_SCHEMA}"`);
  }
  throw new ReportFileError(file, `not a tinyedge deploy report (schema ${JSON.stringify(schema)}, expected "${DEPLOY_REPORT_SCHEMA}")`);
}

// The shape check: every field the renderers and comparisons read, with its type.
type Kind = 'string' | 'number' | 'boolean' | 'number|null' | 'number[]' | 'numeric[]' | { oneOf: readonly string[] };
type Shape = { [field: string]: Kind | { optional: Kind } };

const MODEL: Shape = { path: 'string', name: 'string', sha256: 'string', macs: 'number', paramBytes: 'number' };
const TARGET: Shape = { name: 'string', core: 'string', clockHz: 'number', emulated: 'boolean' };
const MEMORY: Shape = Object.fromEntries(
  ['flashBytes', 'ramBytes', 'arenaBytes', 'stackBytes', 'weightsBytes', 'codeBytes', 'otherRamBytes', 'text', 'data', 'bss', 'flashCapacity', 'ramCapacity'].map(
    (field) => [field, 'number' as const],
  ),
);
const LATENCY: Shape = {
  unit: { oneOf: ['cycles', 'instructions'] },
  runs: 'number',
  warmups: 'number',
  min: 'number',
  median: 'number',
  max: 'number',
  samples: 'number[]',
  perMac: 'number|null',
  outsideLayers: 'number',
  ms: 'number',
  msClockHz: 'number',
  msBasis: { oneOf: ['cycles', 'instructions-at-1-per-cycle'] },
};
const LAYER: Shape = { index: 'number', name: 'string', op: 'string', macs: 'number', time: 'number', share: 'number', perMac: 'number|null' };
const VALIDATION: Shape = {
  against: { oneOf: ['reference'] },
  bitExact: 'boolean',
  compared: 'number',
  mismatches: 'number',
  maxAbsDiff: 'number',
  firstDivergingLayer: { optional: 'string' },
};
/** Float outputs may hold NaN, which JSON writes as null. */
const OUTPUT: Shape = { name: 'string', dtype: 'string', shape: 'number[]', data: 'numeric[]' };
const TOOL: Shape = { version: 'string', commit: { optional: 'string' }, date: 'string' };

/** The first thing wrong with the document, as "latency.median should be a number, found a string". */
function shapeProblem(document: Record<string, unknown>): string | undefined {
  const objects: [string, Shape][] = [
    ['model', MODEL],
    ['target', TARGET],
    ['memory', MEMORY],
    ['latency', LATENCY],
    ['validation', VALIDATION],
    ['tool', TOOL],
  ];
  for (const [field, shape] of objects) {
    const problem = objectProblem(document[field], shape, field);
    if (problem) return problem;
  }
  for (const [field, shape] of [['layers', LAYER], ['outputs', OUTPUT]] as const) {
    const list = document[field];
    if (!Array.isArray(list)) return `${field} should be a list, found ${describe(list)}`;
    for (const [i, item] of list.entries()) {
      const problem = objectProblem(item, shape, `${field}[${i}]`);
      if (problem) return problem;
    }
  }
  return undefined;
}

function objectProblem(value: unknown, shape: Shape, where: string): string | undefined {
  if (!isRecord(value)) return `${where} should be an object, found ${describe(value)}`;
  for (const [field, expected] of Object.entries(shape)) {
    const optional = typeof expected === 'object' && 'optional' in expected;
    const kind = optional ? expected.optional : (expected as Kind);
    const actual = value[field];
    if (actual === undefined && optional) continue;
    if (!matches(actual, kind)) return `${where}.${field} should be ${kindText(kind)}, found ${describe(actual)}`;
  }
  return undefined;
}

function matches(value: unknown, kind: Kind): boolean {
  if (typeof kind === 'object') return typeof value === 'string' && kind.oneOf.includes(value);
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return typeof value === 'number';
    case 'number|null':
      return value === null || typeof value === 'number';
    case 'number[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'number');
    case 'numeric[]':
      return Array.isArray(value) && value.every((v) => v === null || typeof v === 'number');
  }
}

function kindText(kind: Kind): string {
  if (typeof kind === 'object') return `one of ${kind.oneOf.map((v) => `"${v}"`).join(', ')}`;
  return { string: 'a string', boolean: 'true or false', number: 'a number', 'number|null': 'a number or null', 'number[]': 'a list of numbers', 'numeric[]': 'a list of numbers' }[kind];
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value === 'number' ? 'the number' : typeof value} ${String(value)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
