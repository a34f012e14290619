/*
 * STM32F4 / STM32F7 clock set-up (RM0090, RM0390, RM0410): PLL from the 16 MHz HSI, over-drive where the target
 * asks for it, flash wait states, bus dividers, then the switch to the PLL. The register layout is shared by both
 * families; what differs (flash accelerator bits, PLLR) comes from board.h.
 */
#include "board.h"
#include "clock.h"

#define RCC_CR REG32(0x40023800u)
#define RCC_PLLCFGR REG32(0x40023804u)
#define RCC_CFGR REG32(0x40023808u)
#define RCC_APB1ENR REG32(0x40023840u)
#define FLASH_ACR REG32(0x40023C00u)
#define PWR_CR REG32(0x40007000u)
#define PWR_CSR REG32(0x40007004u)

#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_APB1ENR_PWREN (1u << 28)
#define PWR_CR_ODEN (1u << 16)
#define PWR_CR_ODSWEN (1u << 17)
#define PWR_CSR_ODRDY (1u << 16)
#define PWR_CSR_ODSWRDY (1u << 17)
#define RCC_CFGR_SW_MASK 0x3u
#define RCC_CFGR_SWS_MASK 0xCu
#define RCC_CFGR_SW_PLL 0x2u
#define RCC_CFGR_SWS_PLL 0x8u
#define RCC_CFGR_DIVIDERS_MASK ((0xFu << 4) | (0x7u << 10) | (0x7u << 13))
#define PLLCFGR_FIELDS_MASK (0x3Fu | (0x1FFu << 6) | (0x3u << 16) | (1u << 22) | (0xFu << 24) | CLOCK_PLL_R_MASK)

clock_state_t clock_init(void) {
  clock_state_t reset = {BOARD_RESET_CLOCK_HZ, BOARD_RESET_CLOCK_HZ, 0};
  RCC_APB1ENR |= RCC_APB1ENR_PWREN;
  (void)RCC_APB1ENR;

  /* PLLSRC = 0: the HSI, which runs from reset. */
  RCC_PLLCFGR = (RCC_PLLCFGR & ~PLLCFGR_FIELDS_MASK) | CLOCK_PLL_M | (CLOCK_PLL_N << 6) | (CLOCK_PLL_P_BITS << 16) |
                (CLOCK_PLL_Q << 24) | CLOCK_PLL_R_FIELD;
  RCC_CR |= RCC_CR_PLLON;
  if (!clock_wait(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY)) return reset;

  if (CLOCK_OVERDRIVE) {
    PWR_CR |= PWR_CR_ODEN;
    if (!clock_wait(&PWR_CSR, PWR_CSR_ODRDY, PWR_CSR_ODRDY)) return reset;
    PWR_CR |= PWR_CR_ODSWEN;
    if (!clock_wait(&PWR_CSR, PWR_CSR_ODSWRDY, PWR_CSR_ODSWRDY)) return reset;
  }

  /* More wait states before the faster clock, and check they took (RM0090 3.5.1). */
  FLASH_ACR = CLOCK_FLASH_ACR;
  if ((FLASH_ACR & 0xFu) != (CLOCK_FLASH_ACR & 0xFu)) return reset;

  RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_DIVIDERS_MASK) | (CLOCK_HPRE_BITS << 4) | (CLOCK_PPRE1_BITS << 10) |
             (CLOCK_PPRE2_BITS << 13);
  RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
  if (!clock_wait(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL)) return reset;

  clock_state_t running = {BOARD_CLOCK_HZ, CONSOLE_KERNEL_HZ, 1};
  return running;
}
