/*
 * STM32L4+ clock set-up (RM0432): the chip starts on the 4 MHz MSI; start the 16 MHz HSI, enter range-1 boost mode
 * where the target runs above 80 MHz, flash wait states, PLL from the HSI, and switch with the AHB clock halved for
 * the first microsecond as the manual requires for the step above 80 MHz.
 */
#include "board.h"
#include "clock.h"

#define RCC_CR REG32(0x40021000u)
#define RCC_CFGR REG32(0x40021008u)
#define RCC_PLLCFGR REG32(0x4002100Cu)
#define RCC_APB1ENR1 REG32(0x40021058u)
#define PWR_CR5 REG32(0x40007080u)
#define FLASH_ACR REG32(0x40022000u)

#define RCC_CR_HSION (1u << 8)
#define RCC_CR_HSIRDY (1u << 10)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_APB1ENR1_PWREN (1u << 28)
#define PWR_CR5_R1MODE (1u << 8)
#define RCC_CFGR_SW_MASK 0x3u
#define RCC_CFGR_SWS_MASK 0xCu
#define RCC_CFGR_SW_PLL 0x3u
#define RCC_CFGR_SWS_PLL 0xCu
#define RCC_CFGR_HPRE_MASK (0xFu << 4)
#define RCC_CFGR_HPRE_DIV2 (0x8u << 4)
#define RCC_CFGR_DIVIDERS_MASK (RCC_CFGR_HPRE_MASK | (0x7u << 8) | (0x7u << 11))
#define PLLCFGR_FIELDS_MASK (0x3u | (0xFu << 4) | (0x7Fu << 8) | (1u << 24) | (0x3u << 25))

clock_state_t clock_init(void) {
  clock_state_t reset = {BOARD_RESET_CLOCK_HZ, BOARD_RESET_CLOCK_HZ, 0};
  RCC_APB1ENR1 |= RCC_APB1ENR1_PWREN;
  (void)RCC_APB1ENR1;
  if (CLOCK_BOOST) PWR_CR5 &= ~PWR_CR5_R1MODE;

  RCC_CR |= RCC_CR_HSION;
  if (!clock_wait(&RCC_CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY)) return reset;

  FLASH_ACR = CLOCK_FLASH_ACR;
  if ((FLASH_ACR & 0xFu) != (CLOCK_FLASH_ACR & 0xFu)) return reset;

  /* PLLSRC = 2: HSI16; PLLREN enables the R output that feeds the system clock. */
  RCC_PLLCFGR = (RCC_PLLCFGR & ~PLLCFGR_FIELDS_MASK) | 0x2u | ((CLOCK_PLL_M - 1u) << 4) | (CLOCK_PLL_N << 8) |
                (1u << 24) | (CLOCK_PLL_R_BITS << 25);
  RCC_CR |= RCC_CR_PLLON;
  if (!clock_wait(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY)) return reset;

  RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_HPRE_MASK) | (CLOCK_BOOST ? RCC_CFGR_HPRE_DIV2 : (CLOCK_HPRE_BITS << 4));
  RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
  if (!clock_wait(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL)) return reset;
  for (volatile uint32_t i = 0; i < 200u; i++) {
    /* at least 1 us at half speed before the full AHB clock */
  }
  RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_DIVIDERS_MASK) | (CLOCK_HPRE_BITS << 4) | (CLOCK_PPRE1_BITS << 8) |
             (CLOCK_PPRE2_BITS << 11);

  clock_state_t running = {BOARD_CLOCK_HZ, CONSOLE_KERNEL_HZ, 1};
  return running;
}
