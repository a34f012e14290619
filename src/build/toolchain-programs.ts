import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The first executable called `name` in `directories`. */
export function findProgram(name: string, directories: string[]): string | undefined {
  for (const directory of directories) {
    const candidate = path.join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The directories of PATH. */
export function pathDirectories(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.PATH ?? '').split(path.delimiter).filter(Boolean);
}
