/** Compiler and linker flags for a target: the core and FPU decide the ABI; the rest is the same everywhere. */
import type { Target } from '../targets/index.js';

/** -mcpu/-mfpu/-mfloat-abi: code for exactly this core, hardware floating point where there is an FPU. */
export function architectureFlags(target: Target): string[] {
  const cpu = target.core === 'cortex-m33' && !target.dsp ? 'cortex-m33+nodsp' : target.core;
  const flags = [`-mcpu=${cpu}`, '-mthumb'];
  if (target.fpu === 'none') return [...flags, '-mfloat-abi=soft'];
  const fpu = target.core === 'cortex-m55' ? 'auto' : target.fpu;
  return [...flags, `-mfpu=${fpu}`, '-mfloat-abi=hard'];
}

export function compilerFlags(target: Target, includeDirectories: string[]): string[] {
  return [
    ...architectureFlags(target),
    '-O2',
    '-g',
    '-std=gnu11',
    '-ffunction-sections',
    '-fdata-sections',
    '-fno-common',
    '-Wall',
    '-Wextra',
    '-Werror',
    ...includeDirectories.map((d) => `-I${d}`),
  ];
}

/** Flags after the objects: no C start-up files (ours is startup.c), newlib-nano, unused sections dropped. */
export function linkerFlags(linkerScript: string, mapFile: string): string[] {
  return [
    `-T${linkerScript}`,
    '-nostartfiles',
    '--specs=nano.specs',
    '--specs=nosys.specs',
    '-Wl,--gc-sections',
    `-Wl,-Map=${mapFile}`,
  ];
}
