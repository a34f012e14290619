/**
 * Clock-tree arithmetic of a target description: the core clock the PLL settings produce, and the clocks of the
 * buses that feed the console UART and timers. Validation compares these with the numbers the description claims.
 */
import type { ClockSetup, Target } from './types.js';

/** The core clock the described PLL settings give, or the reset clock for boards without a clock set-up. */
export function pllOutputHz(clock: ClockSetup): number {
  if (clock.family === 'fixed' || !clock.pll || clock.sourceHz === undefined) return clock.resetClockHz;
  const { m, n, p, r } = clock.pll;
  const vcoHz = (clock.sourceHz / m) * n;
  switch (clock.family) {
    case 'stm32f4':
    case 'stm32f7':
    case 'stm32h7':
      return vcoHz / (p ?? Number.NaN);
    case 'stm32l4':
    case 'stm32g0':
      return vcoHz / (r ?? Number.NaN);
  }
}

/** The frequency of the AHB bus (HCLK). */
export function ahbHz(target: Pick<Target, 'clockHz' | 'clock'>): number {
  return target.clockHz / target.clock.ahbDivider;
}

/** The kernel clock of the console UART once the clock set-up has run. */
export function consoleKernelHz(target: Pick<Target, 'clockHz' | 'clock' | 'console'>): number {
  const divider = target.console.bus === 'apb1' ? target.clock.apb1Divider : target.clock.apb2Divider;
  return ahbHz(target) / divider;
}

/** STM32 timers on an APB bus run at twice the bus clock when the bus is divided (RM0090 "clock tree"). */
export function apb1TimerHz(target: Pick<Target, 'clockHz' | 'clock'>): number {
  const bus = ahbHz(target) / target.clock.apb1Divider;
  return target.clock.apb1Divider === 1 ? bus : bus * 2;
}
