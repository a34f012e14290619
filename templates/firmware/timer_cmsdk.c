/* ARM CMSDK APB timer: a 32-bit down-counter, read inverted so it counts up. */
#include "board.h"
#include "timer.h"

#define TIMER_CTRL REG32(TIMER_CMSDK_BASE + 0x00u)
#define TIMER_VALUE REG32(TIMER_CMSDK_BASE + 0x04u)
#define TIMER_RELOAD REG32(TIMER_CMSDK_BASE + 0x08u)

#define CTRL_ENABLE (1u << 0)

int timer_cmsdk_start(void) {
  TIMER_CTRL = 0;
  TIMER_RELOAD = 0xFFFFFFFFu;
  TIMER_VALUE = 0xFFFFFFFFu;
  TIMER_CTRL = CTRL_ENABLE;
  const uint32_t before = TIMER_VALUE;
  timer_settle();
  return TIMER_VALUE != before;
}

uint32_t timer_cmsdk_now(void) {
  return ~TIMER_VALUE;
}
