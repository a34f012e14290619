/**
 * What the firmware templates need to know about a board, decided here rather than in C: which driver files to
 * compile, and the register values (PLL fields, bus-divider codes, flash wait states) of its clock set-up.
 */
import { UsageError } from '../errors.js';
import { consoleKernelHz, type Target, type TimerSource } from '../targets/index.js';

export interface Define {
  name: string;
  value: string;
  comment?: string;
}

const hex = (value: number) => `0x${value.toString(16).toUpperCase().padStart(8, '0')}u`;
const unsigned = (value: number) => `${value}u`;

/** AHB prescaler codes (HPRE) shared by STM32 F4, F7, G0, H7 and L4. */
const AHB_CODES: Record<number, number> = { 1: 0, 2: 8, 4: 9, 8: 10, 16: 11, 64: 12, 128: 13, 256: 14, 512: 15 };
/** APB prescaler codes (PPRE). */
const APB_CODES: Record<number, number> = { 1: 0, 2: 4, 4: 5, 8: 6, 16: 7 };

function fail(target: Target, problem: string): never {
  throw new UsageError(`${target.file}: ${problem}`);
}

function oneOf(target: Target, what: string, value: number | undefined, allowed: number[]): number {
  if (value === undefined || !allowed.includes(value)) fail(target, `${what} must be one of ${allowed.join(', ')} for ${target.clock.family}`);
  return value;
}

function busDividerDefines(target: Target): Define[] {
  const { ahbDivider, apb1Divider, apb2Divider } = target.clock;
  return [
    { name: 'CLOCK_HPRE_BITS', value: unsigned(AHB_CODES[ahbDivider]!), comment: `AHB / ${ahbDivider}` },
    { name: 'CLOCK_PPRE1_BITS', value: unsigned(APB_CODES[apb1Divider]!), comment: `APB1 / ${apb1Divider}` },
    { name: 'CLOCK_PPRE2_BITS', value: unsigned(APB_CODES[apb2Divider]!), comment: `APB2 / ${apb2Divider}` },
  ];
}

/** H7 PLL input range code (PLLxRGE) for the frequency after the M divider. */
function h7InputRange(hz: number): number {
  if (hz < 2e6) return 0;
  if (hz < 4e6) return 1;
  if (hz < 8e6) return 2;
  return 3;
}

/** H7 flash programming delay (WRHIGHFREQ) at voltage scale 1, from the AXI clock (RM0433 table 17). */
function h7ProgrammingDelay(axiHz: number): number {
  if (axiHz <= 70e6) return 0;
  if (axiHz <= 185e6) return 1;
  return 2;
}

/** PLL input (after M) and VCO limits per family, from the reference manuals' PLL characteristics. */
const PLL_LIMITS: Record<Exclude<Target['clock']['family'], 'fixed'>, { input: [number, number]; vco: [number, number] }> = {
  stm32f4: { input: [0.95e6, 2.1e6], vco: [100e6, 432e6] },
  stm32f7: { input: [0.95e6, 2.1e6], vco: [100e6, 432e6] },
  stm32h7: { input: [1e6, 16e6], vco: [150e6, 836e6] },
  stm32l4: { input: [2.66e6, 16e6], vco: [64e6, 344e6] },
  stm32g0: { input: [2.66e6, 16e6], vco: [64e6, 344e6] },
};

function checkPllLimits(target: Target): void {
  const { clock } = target;
  if (clock.family === 'fixed' || !clock.pll || clock.sourceHz === undefined) return;
  const limits = PLL_LIMITS[clock.family];
  const inputHz = clock.sourceHz / clock.pll.m;
  const vcoHz = inputHz * clock.pll.n;
  const mhz = (hz: number) => `${hz / 1e6} MHz`;
  if (inputHz < limits.input[0] || inputHz > limits.input[1]) {
    fail(target, `the PLL input is ${mhz(inputHz)}, outside ${mhz(limits.input[0])}..${mhz(limits.input[1])} for ${clock.family}`);
  }
  if (vcoHz < limits.vco[0] || vcoHz > limits.vco[1]) {
    fail(target, `the PLL VCO runs at ${mhz(vcoHz)}, outside ${mhz(limits.vco[0])}..${mhz(limits.vco[1])} for ${clock.family}`);
  }
}

function clockDefines(target: Target): Define[] {
  checkPllLimits(target);
  const { clock } = target;
  const pll = clock.pll;
  const waitStates = clock.flashWaitStates ?? 0;
  switch (clock.family) {
    case 'fixed':
      return [];
    case 'stm32f4':
    case 'stm32f7': {
      const p = oneOf(target, 'pll.p', pll!.p, [2, 4, 6, 8]);
      const q = oneOf(target, 'pll.q', pll!.q, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
      // F4: prefetch + instruction and data caches; F7: prefetch + ART accelerator.
      const accelerator = clock.family === 'stm32f4' ? 0x700 : 0x300;
      return [
        { name: 'CLOCK_PLL_M', value: unsigned(pll!.m) },
        { name: 'CLOCK_PLL_N', value: unsigned(pll!.n) },
        { name: 'CLOCK_PLL_P_BITS', value: unsigned(p / 2 - 1), comment: `P = ${p}` },
        { name: 'CLOCK_PLL_Q', value: unsigned(q) },
        { name: 'CLOCK_PLL_R_FIELD', value: pll!.r ? hex(pll!.r << 28) : '0u', comment: pll!.r ? `R = ${pll!.r}` : 'no PLLR' },
        { name: 'CLOCK_PLL_R_MASK', value: pll!.r ? hex(7 << 28) : '0u' },
        { name: 'CLOCK_OVERDRIVE', value: clock.overdrive ? '1' : '0' },
        { name: 'CLOCK_FLASH_ACR', value: hex(accelerator | waitStates), comment: `${waitStates} wait states` },
        ...busDividerDefines(target),
      ];
    }
    case 'stm32h7': {
      const inputHz = clock.sourceHz! / pll!.m;
      const vcoHz = inputHz * pll!.n;
      const axiHz = target.clockHz / clock.ahbDivider;
      return [
        { name: 'CLOCK_PLL_M', value: unsigned(pll!.m) },
        { name: 'CLOCK_PLL_N', value: unsigned(pll!.n) },
        { name: 'CLOCK_PLL_P', value: unsigned(pll!.p!) },
        { name: 'CLOCK_PLL_Q', value: unsigned(pll!.q ?? 2) },
        { name: 'CLOCK_PLL_R', value: unsigned(pll!.r ?? 2) },
        { name: 'CLOCK_PLL1_RANGE', value: unsigned(h7InputRange(inputHz)), comment: `input ${inputHz / 1e6} MHz` },
        // The wide-range VCO needs at least 2 MHz in; below that only the medium range (150..420 MHz) works.
        { name: 'CLOCK_PLL1_VCO_MEDIUM', value: inputHz < 2e6 ? '1u' : '0u', comment: `VCO ${vcoHz / 1e6} MHz` },
        {
          name: 'CLOCK_FLASH_ACR',
          value: hex(waitStates | (h7ProgrammingDelay(axiHz) << 4)),
          comment: `${waitStates} wait states, programming delay for ${axiHz / 1e6} MHz`,
        },
        ...busDividerDefines(target),
      ];
    }
    case 'stm32l4': {
      const r = oneOf(target, 'pll.r', pll!.r, [2, 4, 6, 8]);
      return [
        { name: 'CLOCK_PLL_M', value: unsigned(pll!.m) },
        { name: 'CLOCK_PLL_N', value: unsigned(pll!.n) },
        { name: 'CLOCK_PLL_R_BITS', value: unsigned(r / 2 - 1), comment: `R = ${r}` },
        { name: 'CLOCK_BOOST', value: clock.boost ? '1' : '0' },
        { name: 'CLOCK_FLASH_ACR', value: hex(0x700 | waitStates), comment: `${waitStates} wait states + prefetch and caches` },
        ...busDividerDefines(target),
      ];
    }
    case 'stm32g0': {
      const r = oneOf(target, 'pll.r', pll!.r, [2, 3, 4, 5, 6, 7, 8]);
      return [
        { name: 'CLOCK_PLL_M', value: unsigned(pll!.m) },
        { name: 'CLOCK_PLL_N', value: unsigned(pll!.n) },
        { name: 'CLOCK_PLL_R', value: unsigned(r) },
        { name: 'CLOCK_FLASH_ACR', value: hex(0x300 | waitStates), comment: `${waitStates} wait states + prefetch and cache` },
        ...busDividerDefines(target),
      ];
    }
  }
}

const TIMER_DRIVERS: Record<TimerSource['kind'], { driver: string; file: string; baseDefine?: string }> = {
  dwt: { driver: 'timer_dwt', file: 'timer_dwt.c' },
  'stm32-tim2': { driver: 'timer_tim2', file: 'timer_stm32_tim2.c', baseDefine: 'TIMER_TIM2_BASE' },
  'cmsdk-timer': { driver: 'timer_cmsdk', file: 'timer_cmsdk.c', baseDefine: 'TIMER_CMSDK_BASE' },
};

const CONSOLE_FILES: Record<Target['console']['kind'], string> = {
  'stm32-usart': 'console_stm32_usart.c',
  'stm32-usart-isr': 'console_stm32_usart_isr.c',
  'stm32-lpuart': 'console_stm32_usart_isr.c',
  'cmsdk-uart': 'console_cmsdk_uart.c',
};

function timerSources(target: Target): TimerSource[] {
  return target.timer.fallback ? [target.timer, target.timer.fallback] : [target.timer];
}

/** Every #define of board.h. */
export function boardDefines(target: Target): Define[] {
  const defines: Define[] = [
    { name: 'BOARD_CLOCK_HZ', value: unsigned(target.clockHz), comment: 'after the clock set-up' },
    { name: 'BOARD_RESET_CLOCK_HZ', value: unsigned(target.clock.resetClockHz), comment: 'if a ready bit never comes' },
    { name: 'CONSOLE_BASE', value: hex(target.console.base), comment: target.console.peripheral },
    { name: 'CONSOLE_BAUD', value: unsigned(target.console.baud) },
    { name: 'CONSOLE_KERNEL_HZ', value: unsigned(consoleKernelHz(target)), comment: `${target.console.bus} clock` },
    { name: 'CONSOLE_BRR_SCALE', value: target.console.kind === 'stm32-lpuart' ? '256u' : '1u' },
  ];
  for (const source of timerSources(target)) {
    const { baseDefine } = TIMER_DRIVERS[source.kind];
    if (baseDefine && source.base !== undefined) defines.push({ name: baseDefine, value: hex(source.base) });
  }
  return [...defines, ...clockDefines(target)];
}

/** The board-specific C files: clock set-up, console driver, timer drivers, GPIO helper. */
export function boardSourceFiles(target: Target): string[] {
  const clockFile = {
    fixed: 'clock_fixed.c',
    stm32f4: 'clock_stm32f4f7.c',
    stm32f7: 'clock_stm32f4f7.c',
    stm32h7: 'clock_stm32h7.c',
    stm32l4: 'clock_stm32l4.c',
    stm32g0: 'clock_stm32g0.c',
  }[target.clock.family];
  const files = [clockFile, CONSOLE_FILES[target.console.kind], ...timerSources(target).map((s) => TIMER_DRIVERS[s.kind].file)];
  if (target.console.pins.length > 0) files.push('gpio_stm32.c');
  return [...new Set(files)];
}

export interface TimerView {
  kind: string;
  unit: string;
  driver: string;
  unitDefine: string;
  unitsPerTick: number;
}

export function timerView(source: TimerSource): TimerView {
  return {
    kind: source.kind,
    unit: source.unit,
    driver: TIMER_DRIVERS[source.kind].driver,
    unitDefine: source.unit === 'cycles' ? 'TIMER_UNIT_CYCLES' : 'TIMER_UNIT_INSTRUCTIONS',
    unitsPerTick: source.unitsPerTick,
  };
}

export function registerWrites(target: Target, which: 'console' | 'timer') {
  const list = which === 'console' ? target.console.enable : timerSources(target).flatMap((s) => s.enable);
  return list.map((r) => ({ register: r.register, address: hex(r.address), mask: hex(r.mask) }));
}

export function pinViews(target: Target) {
  return target.console.pins.map((p) => ({
    pin: p.pin,
    signal: p.signal,
    gpioBase: hex(p.gpioBase),
    number: Number(p.pin.slice(2)),
    alternateFunction: p.alternateFunction,
    pullUp: p.signal === 'rx' ? 1 : 0,
  }));
}
