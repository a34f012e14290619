/**
 * What tinyedge knows about a board: the core and its ISA features (for compiler flags and kernel choice), its
 * memories (for the linker script and the fit check), the clock set-up, the console UART and the timing source.
 * Descriptions live in targets/*.json (hex strings and "512K"-style sizes there); these are the validated values.
 */

export const CORES = ['cortex-m0plus', 'cortex-m3', 'cortex-m4', 'cortex-m7', 'cortex-m33', 'cortex-m55'] as const;
export type CoreName = (typeof CORES)[number];

export const FPUS = ['none', 'fpv4-sp-d16', 'fpv5-sp-d16', 'fpv5-d16'] as const;
export type FpuName = (typeof FPUS)[number];

export interface MemoryRegion {
  /** The linker script's region name (FLASH, RAM, AXISRAM...). */
  name: string;
  kind: 'flash' | 'ram';
  origin: number;
  size: number;
  note?: string;
}

/** "Set these bits in this register": clock gates and power switches, in the order they must happen. */
export interface RegisterBits {
  /** Reference-manual name, for readers of the generated code. */
  register: string;
  address: number;
  mask: number;
}

export const CLOCK_FAMILIES = ['stm32f4', 'stm32f7', 'stm32h7', 'stm32l4', 'stm32g0', 'fixed'] as const;
export type ClockFamily = (typeof CLOCK_FAMILIES)[number];

export interface ClockSetup {
  /** Which register-level set-up (templates/firmware/clock_<family>.c) runs at boot; 'fixed' runs none. */
  family: ClockFamily;
  /** The core clock right after reset, used when the PLL does not lock (always in QEMU, whose RCC reads 0). */
  resetClockHz: number;
  source?: 'hsi';
  sourceHz?: number;
  /** Divider and multiplier values as in the reference manual (not register encodings). */
  pll?: { m: number; n: number; p?: number; q?: number; r?: number };
  ahbDivider: number;
  apb1Divider: number;
  apb2Divider: number;
  flashWaitStates?: number;
  /** STM32F446/F7 over-drive mode (needed above 168/180 MHz). */
  overdrive?: boolean;
  /** STM32L4+ range-1 boost mode (needed above 80 MHz). */
  boost?: boolean;
}

export const CONSOLE_KINDS = ['stm32-usart', 'stm32-usart-isr', 'stm32-lpuart', 'cmsdk-uart'] as const;
/**
 * - stm32-usart: SR/DR register layout (F1, F2, F4)
 * - stm32-usart-isr: ISR/RDR/TDR layout (F0, F3, F7, G0, H7, L4)
 * - stm32-lpuart: ISR layout with the low-power UART's 256x baud divider
 * - cmsdk-uart: ARM CMSDK APB UART (MPS2 boards)
 */
export type ConsoleKind = (typeof CONSOLE_KINDS)[number];

export interface ConsolePin {
  signal: 'tx' | 'rx';
  pin: string;
  gpioBase: number;
  alternateFunction: number;
}

export interface ConsoleUart {
  kind: ConsoleKind;
  peripheral: string;
  base: number;
  baud: number;
  /** Which peripheral bus clocks the UART: its kernel clock is the core clock divided by AHB and this bus's divider. */
  bus: 'apb1' | 'apb2';
  pins: ConsolePin[];
  enable: RegisterBits[];
}

export const TIMER_KINDS = ['dwt', 'stm32-tim2', 'cmsdk-timer'] as const;
export type TimerKind = (typeof TIMER_KINDS)[number];
export type TimerUnit = 'cycles' | 'instructions';

export interface TimerSource {
  kind: TimerKind;
  /** What one tick times unitsPerTick measures: core cycles, or instructions on an emulator under -icount. */
  unit: TimerUnit;
  /** Peripheral timers only. */
  base?: number;
  enable: RegisterBits[];
  unitsPerTick: number;
}

export interface Timer extends TimerSource {
  /** Used when the primary timer does not count (DWT in QEMU). */
  fallback?: TimerSource;
}

export interface QemuMachine {
  machine: string;
  cpu?: string;
}

export interface Target {
  name: string;
  description: string;
  core: CoreName;
  fpu: FpuName;
  dsp: boolean;
  clockHz: number;
  memory: MemoryRegion[];
  clock: ClockSetup;
  console: ConsoleUart;
  timer: Timer;
  flash: { methods: string[]; bootloaderProductId?: number };
  qemu?: QemuMachine;
  emulated: boolean;
  /** The JSON file the description came from. */
  file: string;
}
