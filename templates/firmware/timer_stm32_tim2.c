/* STM32 TIM2, a 32-bit timer: free-running from 0 at the timer clock (1 GHz in QEMU, i.e. instructions under -icount shift=0). */
#include "board.h"
#include "timer.h"

#define TIM_CR1 REG32(TIMER_TIM2_BASE + 0x00u)
#define TIM_EGR REG32(TIMER_TIM2_BASE + 0x14u)
#define TIM_CNT REG32(TIMER_TIM2_BASE + 0x24u)
#define TIM_PSC REG32(TIMER_TIM2_BASE + 0x28u)
#define TIM_ARR REG32(TIMER_TIM2_BASE + 0x2Cu)

#define CR1_CEN (1u << 0)
#define EGR_UG (1u << 0)

int timer_tim2_start(void) {
  TIM_CR1 = 0;
  TIM_PSC = 0;
  TIM_ARR = 0xFFFFFFFFu;
  TIM_EGR = EGR_UG; /* load the prescaler now rather than at the first overflow */
  TIM_CNT = 0;
  TIM_CR1 = CR1_CEN;
  const uint32_t before = TIM_CNT;
  timer_settle();
  return TIM_CNT != before;
}

uint32_t timer_tim2_now(void) {
  return TIM_CNT;
}
