/**
 * The register values TypeScript computes for the clock set-up, checked against the encodings in the reference
 * manuals (RM0390 F446, RM0433 H743, RM0432 L4R5, RM0444 G071): a wrong code here would compile and then hang a
 * real board, which no emulator shows.
 */
import { describe, expect, it } from 'vitest';
import { boardDefines, boardSourceFiles } from '../../src/build/firmware-board.js';
import { loadTarget } from '../../src/targets/index.js';
import { parseTarget } from '../../src/targets/parse.js';
import { readFileSync } from 'node:fs';

const definesOf = (name: string) => Object.fromEntries(boardDefines(loadTarget(name)).map((d) => [d.name, d.value]));

describe('board defines', () => {
  it('encodes the F446 PLL, over-drive, flash latency and bus dividers', () => {
    expect(definesOf('nucleo-f446re')).toMatchObject({
      BOARD_CLOCK_HZ: '180000000u',
      CLOCK_PLL_M: '8u',
      CLOCK_PLL_N: '180u',
      CLOCK_PLL_P_BITS: '0u', // P = 2
      CLOCK_PLL_R_FIELD: '0x20000000u', // R = 2 in bits 30:28
      CLOCK_OVERDRIVE: '1',
      CLOCK_FLASH_ACR: '0x00000705u', // 5 wait states + prefetch, I-cache, D-cache
      CLOCK_HPRE_BITS: '0u',
      CLOCK_PPRE1_BITS: '5u', // /4
      CLOCK_PPRE2_BITS: '4u', // /2
      CONSOLE_BASE: '0x40004400u',
      CONSOLE_KERNEL_HZ: '45000000u',
      CONSOLE_BRR_SCALE: '1u',
    });
  });

  it('encodes the H743 PLL1 range, VCO and flash programming delay', () => {
    expect(definesOf('nucleo-h743zi2')).toMatchObject({
      CLOCK_PLL1_RANGE: '3u', // 16 MHz in: 8..16 MHz
      CLOCK_PLL1_VCO_MEDIUM: '0u', // 800 MHz: wide range
      CLOCK_FLASH_ACR: '0x00000022u', // 2 wait states, WRHIGHFREQ = 2 for a 200 MHz AXI clock
      CLOCK_HPRE_BITS: '8u', // /2
      CONSOLE_KERNEL_HZ: '100000000u',
    });
  });

  it('uses the LPUART divider and boost mode on the L4R5', () => {
    expect(definesOf('nucleo-l4r5zi')).toMatchObject({ CLOCK_PLL_R_BITS: '0u', CLOCK_BOOST: '1', CONSOLE_BRR_SCALE: '256u' });
  });

  it('picks one driver per peripheral kind', () => {
    expect(boardSourceFiles(loadTarget('qemu-stm32f405'))).toEqual(
      ['clock_stm32f4f7.c', 'console_stm32_usart.c', 'timer_dwt.c', 'timer_stm32_tim2.c', 'gpio_stm32.c'],
    );
    expect(boardSourceFiles(loadTarget('qemu-cortex-m3'))).toEqual(['clock_fixed.c', 'console_cmsdk_uart.c', 'timer_dwt.c', 'timer_cmsdk.c']);
    expect(boardSourceFiles(loadTarget('nucleo-g071rb'))).toEqual(
      ['clock_stm32g0.c', 'console_stm32_usart_isr.c', 'timer_stm32_tim2.c', 'gpio_stm32.c'],
    );
  });

  it('refuses PLL settings outside the chip limits', () => {
    const raw = JSON.parse(readFileSync(loadTarget('stm32f4-discovery').file, 'utf8'));
    const overclocked = parseTarget(
      { ...raw, clockHz: 240_000_000, clock: { ...raw.clock, pll: { ...raw.clock.pll, n: 240 } } },
      'fast.json',
    );
    expect(() => boardDefines(overclocked)).toThrow(/fast.json: the PLL VCO runs at 480 MHz, outside 100 MHz..432 MHz for stm32f4/);
  });
});
