/* The DWT cycle counter of Cortex-M3/M4/M7/M33/M55 (absent on M0+; QEMU reads it as 0). */
#include "board.h"
#include "timer.h"

#define DEMCR REG32(0xE000EDFCu)
#define DWT_CTRL REG32(0xE0001000u)
#define DWT_CYCCNT REG32(0xE0001004u)
#define DWT_LAR REG32(0xE0001FB0u)

#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL_CYCCNTENA (1u << 0)

int timer_dwt_start(void) {
  DEMCR |= DEMCR_TRCENA;
  DWT_LAR = 0xC5ACCE55u; /* the Cortex-M7 locks the DWT until this key is written; harmless elsewhere */
  DWT_CYCCNT = 0;
  DWT_CTRL |= DWT_CTRL_CYCCNTENA;
  const uint32_t before = DWT_CYCCNT;
  timer_settle();
  return DWT_CYCCNT != before;
}

uint32_t timer_dwt_now(void) {
  return DWT_CYCCNT;
}
