/** Runs the real built `tinyedge` command (test/global-setup.ts builds dist/ first) and collects what it printed. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '../..');
export const shared = resolve(repoRoot, '../shared');
export const hasShared = existsSync(shared);
if (!hasShared) console.warn(`${shared} is absent: the CLI tests on the shared models are skipped`);
export const sharedModel = (path: string) => resolve(shared, 'models', path);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tinyedge(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(process.execPath, [resolve(repoRoot, 'bin/tinyedge.js'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, TINYEDGE_DEBUG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The contract for every user mistake: one line on stderr, no stack trace, the documented exit code. */
export function expectOneLineError(result: CliResult): string {
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got ${lines.length}:\n${result.stderr}`);
  if (!lines[0]!.startsWith('tinyedge: ') || lines[0]!.includes('internal error')) throw new Error(`not a user error: ${lines[0]}`);
  if (/\n\s+at /.test(result.stderr)) throw new Error(`stack trace on stderr:\n${result.stderr}`);
  return lines[0]!;
}
