/* STM32G0 clock set-up (RM0444): flash wait states, PLL from the 16 MHz HSI (the reset clock), switch to PLLRCLK. */
#include "board.h"
#include "clock.h"

#define RCC_CR REG32(0x40021000u)
#define RCC_CFGR REG32(0x40021008u)
#define RCC_PLLCFGR REG32(0x4002100Cu)
#define FLASH_ACR REG32(0x40022000u)

#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR_SW_MASK 0x7u
#define RCC_CFGR_SWS_MASK (0x7u << 3)
#define RCC_CFGR_SW_PLL 0x2u
#define RCC_CFGR_SWS_PLL (0x2u << 3)
#define RCC_CFGR_DIVIDERS_MASK ((0xFu << 8) | (0x7u << 12))

clock_state_t clock_init(void) {
  clock_state_t reset = {BOARD_RESET_CLOCK_HZ, BOARD_RESET_CLOCK_HZ, 0};

  FLASH_ACR = CLOCK_FLASH_ACR;
  if ((FLASH_ACR & 0x7u) != (CLOCK_FLASH_ACR & 0x7u)) return reset;

  /* PLLSRC = 2: HSI16; PLLREN (bit 28) enables the R output. */
  RCC_PLLCFGR = 0x2u | ((CLOCK_PLL_M - 1u) << 4) | (CLOCK_PLL_N << 8) | (1u << 28) | ((CLOCK_PLL_R - 1u) << 29);
  RCC_CR |= RCC_CR_PLLON;
  if (!clock_wait(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY)) return reset;

  RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_DIVIDERS_MASK) | (CLOCK_HPRE_BITS << 8) | (CLOCK_PPRE1_BITS << 12);
  RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
  if (!clock_wait(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL)) return reset;

  clock_state_t running = {BOARD_CLOCK_HZ, CONSOLE_KERNEL_HZ, 1};
  return running;
}
