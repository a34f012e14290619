import { findProgram, pathDirectories } from '../build/toolchain-programs.js';

/** The first executable called `name` on PATH. */
export function findProgramOnPath(name: string): string | undefined {
  return findProgram(name, pathDirectories());
}
