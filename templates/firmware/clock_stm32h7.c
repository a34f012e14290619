/*
 * STM32H743 clock set-up (RM0433): LDO supply, voltage scale 1, PLL1 from the 64 MHz HSI, flash wait states and
 * programming delay, domain dividers, then the switch to PLL1.
 */
#include "board.h"
#include "clock.h"

#define PWR_CSR1 REG32(0x58024804u)
#define PWR_CR3 REG32(0x5802480Cu)
#define PWR_D3CR REG32(0x58024818u)
#define RCC_CR REG32(0x58024400u)
#define RCC_CFGR REG32(0x58024410u)
#define RCC_D1CFGR REG32(0x58024418u)
#define RCC_D2CFGR REG32(0x5802441Cu)
#define RCC_D3CFGR REG32(0x58024420u)
#define RCC_PLLCKSELR REG32(0x58024428u)
#define RCC_PLLCFGR REG32(0x5802442Cu)
#define RCC_PLL1DIVR REG32(0x58024430u)
#define FLASH_ACR REG32(0x52002000u)

#define PWR_CR3_SUPPLY_MASK 0x7u /* BYPASS, LDOEN, SCUEN */
#define PWR_CR3_LDOEN (1u << 1)
#define PWR_CSR1_ACTVOSRDY (1u << 13)
#define PWR_D3CR_VOS_MASK (3u << 14)
#define PWR_D3CR_VOS1 (3u << 14)
#define PWR_D3CR_VOSRDY (1u << 13)
#define RCC_CR_PLL1ON (1u << 24)
#define RCC_CR_PLL1RDY (1u << 25)
#define RCC_CFGR_SW_MASK 0x7u
#define RCC_CFGR_SWS_MASK (0x7u << 3)
#define RCC_CFGR_SW_PLL1 0x3u
#define RCC_CFGR_SWS_PLL1 (0x3u << 3)

clock_state_t clock_init(void) {
  clock_state_t reset = {BOARD_RESET_CLOCK_HZ, BOARD_RESET_CLOCK_HZ, 0};

  /* The supply configuration can be written once per power-up; the Nucleo powers the core from the LDO. */
  PWR_CR3 = (PWR_CR3 & ~PWR_CR3_SUPPLY_MASK) | PWR_CR3_LDOEN;
  if (!clock_wait(&PWR_CSR1, PWR_CSR1_ACTVOSRDY, PWR_CSR1_ACTVOSRDY)) return reset;
  PWR_D3CR = (PWR_D3CR & ~PWR_D3CR_VOS_MASK) | PWR_D3CR_VOS1;
  if (!clock_wait(&PWR_D3CR, PWR_D3CR_VOSRDY, PWR_D3CR_VOSRDY)) return reset;

  /* PLLSRC = 0: the HSI. */
  RCC_PLLCKSELR = (RCC_PLLCKSELR & ~(0x3u | (0x3Fu << 4))) | (CLOCK_PLL_M << 4);
  RCC_PLLCFGR = (RCC_PLLCFGR & ~0xFu) | (CLOCK_PLL1_RANGE << 2) | (CLOCK_PLL1_VCO_MEDIUM << 1) | (0x7u << 16);
  RCC_PLL1DIVR = (CLOCK_PLL_N - 1u) | ((CLOCK_PLL_P - 1u) << 9) | ((CLOCK_PLL_Q - 1u) << 16) | ((CLOCK_PLL_R - 1u) << 24);
  RCC_CR |= RCC_CR_PLL1ON;
  if (!clock_wait(&RCC_CR, RCC_CR_PLL1RDY, RCC_CR_PLL1RDY)) return reset;

  FLASH_ACR = CLOCK_FLASH_ACR;
  if ((FLASH_ACR & 0x3Fu) != (CLOCK_FLASH_ACR & 0x3Fu)) return reset;

  RCC_D1CFGR = (RCC_D1CFGR & ~(0xFu | (0x7u << 4) | (0xFu << 8))) | CLOCK_HPRE_BITS | (CLOCK_PPRE1_BITS << 4);
  RCC_D2CFGR = (RCC_D2CFGR & ~((0x7u << 4) | (0x7u << 8))) | (CLOCK_PPRE1_BITS << 4) | (CLOCK_PPRE2_BITS << 8);
  RCC_D3CFGR = (RCC_D3CFGR & ~(0x7u << 4)) | (CLOCK_PPRE1_BITS << 4);
  RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL1;
  if (!clock_wait(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL1)) return reset;

  clock_state_t running = {BOARD_CLOCK_HZ, CONSOLE_KERNEL_HZ, 1};
  return running;
}
