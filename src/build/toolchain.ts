/**
 * Finds the GNU Arm Embedded toolchain (arm-none-eabi-gcc with newlib): on PATH, or in the directory named by
 * TINYEDGE_ARM_TOOLCHAIN. A missing piece is a BuildError with the exact command that installs it.
 */
import path from 'node:path';
import { execa } from 'execa';
import { BuildError } from './firmware-errors.js';
import { findProgram, pathDirectories } from './toolchain-programs.js';

export const INSTALL_TOOLCHAIN = 'sudo apt-get install -y gcc-arm-none-eabi libnewlib-arm-none-eabi';

export interface Toolchain {
  gcc: string;
  objcopy: string;
  /** `arm-none-eabi-gcc -dumpversion`. */
  version: string;
}

function searchPath(env: NodeJS.ProcessEnv): string[] {
  const override = env.TINYEDGE_ARM_TOOLCHAIN;
  return override ? [path.join(override, 'bin'), override] : pathDirectories(env);
}

let cached: Promise<Toolchain> | undefined;

/** The toolchain, located once per process. */
export function findToolchain(): Promise<Toolchain> {
  cached ??= locateToolchain(process.env).catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

/** Looks for the toolchain where `env` says (uncached). */
export async function locateToolchain(env: NodeJS.ProcessEnv): Promise<Toolchain> {
  const directories = searchPath(env);
  const where = env.TINYEDGE_ARM_TOOLCHAIN ? `in ${env.TINYEDGE_ARM_TOOLCHAIN}` : 'on PATH';
  const gcc = findProgram('arm-none-eabi-gcc', directories);
  const objcopy = findProgram('arm-none-eabi-objcopy', directories);
  if (!gcc || !objcopy) {
    throw new BuildError(`arm-none-eabi-gcc was not found ${where}; install it with: ${INSTALL_TOOLCHAIN}`);
  }
  const { stdout: version } = await execa(gcc, ['-dumpversion']);
  // Without newlib the compiler runs but has no <stdint.h> or libc: say so now, not at the first #include.
  const { stdout: libc } = await execa(gcc, ['-mthumb', '-mcpu=cortex-m4', '--specs=nano.specs', '-print-file-name=libc_nano.a']);
  if (!path.isAbsolute(libc.trim())) {
    throw new BuildError(`${gcc} has no newlib C library; install it with: ${INSTALL_TOOLCHAIN}`);
  }
  return { gcc, objcopy, version: version.trim() };
}
