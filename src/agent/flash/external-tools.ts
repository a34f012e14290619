import { execa } from 'execa';
import type { Stm32Chip } from '../bootloader/chips.js';
import { FlashError } from './errors.js';
import { findProgramOnPath } from '../programs.js';

export type ExternalToolMethod = 'st-flash' | 'openocd' | 'stm32-programmer' | 'pyocd';

export interface ToolJob {
  /** A flat .bin on disk. */
  binFile: string;
  address: number;
  chip: Stm32Chip;
  verify: boolean;
  run: boolean;
  /** pyocd's target name (e.g. stm32f446retx); pyocd knows parts by its own names. */
  pyocdTarget?: string;
}

interface ExternalTool {
  command: string;
  /** The exact way to get it, printed when it is missing. */
  install: string;
  args(job: ToolJob): string[];
}

const hex = (address: number) => `0x${address.toString(16).padStart(8, '0')}`;

/** Each flasher's command line for "write this .bin at this address (verify) (then reset)". */
export const externalTools: Record<ExternalToolMethod, ExternalTool> = {
  'st-flash': {
    command: 'st-flash',
    install: 'Debian/Ubuntu: sudo apt install stlink-tools; macOS: brew install stlink',
    // st-flash always reads back what it wrote.
    args: (job) => [...(job.run ? ['--reset'] : []), 'write', job.binFile, hex(job.address)],
  },
  openocd: {
    command: 'openocd',
    install: 'Debian/Ubuntu: sudo apt install openocd; macOS: brew install open-ocd',
    args: (job) => [
      '-f', 'interface/stlink.cfg',
      '-f', `target/${job.chip.openocdTarget}`,
      '-c', ['program', `{${job.binFile}}`, hex(job.address), job.verify ? 'verify' : '', job.run ? 'reset' : '', 'exit'].filter(Boolean).join(' '),
    ],
  },
  'stm32-programmer': {
    command: 'STM32_Programmer_CLI',
    install: "install STM32CubeProgrammer (st.com) and add its bin folder (…/STM32CubeProgrammer/bin) to PATH",
    args: (job) => ['-c', 'port=SWD', '-w', job.binFile, hex(job.address), ...(job.verify ? ['-v'] : []), ...(job.run ? ['-rst'] : [])],
  },
  pyocd: {
    command: 'pyocd',
    install: 'pipx install pyocd (or: python3 -m pip install --user pyocd)',
    args: (job) => [
      'flash',
      '--target', job.pyocdTarget ?? job.chip.parts[0].toLowerCase(),
      '--base-address', hex(job.address),
      ...(job.run ? [] : ['--no-reset']),
      job.binFile,
    ],
  },
};

export async function flashWithTool(method: ExternalToolMethod, job: ToolJob): Promise<string> {
  const tool = externalTools[method];
  const executable = findProgramOnPath(tool.command);
  if (!executable) throw new FlashError(method, `${tool.command} is not installed (not on PATH). Install it: ${tool.install}`);
  const result = await execa(executable, tool.args(job), { reject: false, all: true, stdin: 'ignore' });
  if (result.failed) {
    const tail = (result.all ?? '').trim().split('\n').slice(-3).join(' | ');
    const how = result.exitCode !== undefined ? `exit status ${result.exitCode}` : (result.signal ?? result.message);
    throw new FlashError(method, `${tool.command} failed (${how})${tail ? `: ${tail}` : ''}`);
  }
  return result.all ?? '';
}
