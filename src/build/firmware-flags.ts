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

/**
 * How each part of the firmware is optimised. The model library runs the inferences: -O2, for speed, compiled as it
 * is. The harness around it (start-up, console, the two device protocols) runs between inferences and counts in the
 * firmware's code size like TFLite-Micro's interpreter does: -Os; no loops turned into calls of newlib's
 * memset/strlen, which cost more flash than the loops; and link-time optimisation, which sees that the model's
 * description (mlperf_model in main.c) is constant and drops the code for other kinds of model. The objects keep
 * their machine code too (fat), so the size check before the link can read them. The link finishes compiling the
 * harness, so it runs with the harness's flags.
 */
export type CodeRole = 'model' | 'harness';

const ROLE_FLAGS: Record<CodeRole, string[]> = {
  model: ['-O2'],
  harness: ['-Os', '-fno-tree-loop-distribute-patterns', '-flto', '-flto-partition=one', '-ffat-lto-objects'],
};

export function compilerFlags(target: Target, includeDirectories: string[], role: CodeRole = 'model'): string[] {
  return [
    ...architectureFlags(target),
    ...ROLE_FLAGS[role],
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
