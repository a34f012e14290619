/**
 * Builds dist/ before the tests run, unless it is already newer than every source file: the CLI tests spawn the
 * real `node bin/tinyedge.js`, which runs the compiled output. A type error does not stop tsc from emitting, so the
 * build's diagnostics are shown and the tests still run (`npm run build`, which CI runs first, fails on them).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export default function buildOnce(): void {
  const built = join(repoRoot, 'dist/cli/main.js');
  const sources = [join(repoRoot, 'tsconfig.json'), ...filesUnder(join(repoRoot, 'src'))];
  if (existsSync(built) && sources.every((file) => statSync(file).mtimeMs < statSync(built).mtimeMs)) return;

  const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: repoRoot, encoding: 'utf8' });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    process.stderr.write(`global-setup: tsc reported errors (the CLI tests run on what it emitted):\n${result.stdout}${result.stderr}\n`);
  }
}

function filesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}
