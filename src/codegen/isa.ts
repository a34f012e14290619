/**
 * Which kernel family code generation emits: 'portable' C99 (every core, the host build, the bit-exact fallback) or
 * 'dsp', the SIMD kernels for cores with the DSP extension (Cortex-M4, M7, M33 with DSP, M55): int8 widened to
 * int16 pairs with SXTB16, two multiply-accumulates per SMLAD, output blocking so that every loaded operand is used
 * more than once. The choice is made once, from the target description, at generation time; the generated C holds
 * one ISA path per kernel, never an #if.
 */
import type { Target } from '../targets/index.js';

export const ISAS = ['portable', 'dsp'] as const;
export type Isa = (typeof ISAS)[number];

/** The kernels for a target: the DSP ones where the core has the extension (targets/*.json `dsp`). */
export function isaForTarget(target: Pick<Target, 'dsp'>): Isa {
  return target.dsp ? 'dsp' : 'portable';
}
