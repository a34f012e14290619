/* The timing source: DWT cycle counter where it counts, otherwise the board's peripheral timer. */
#ifndef TINYEDGE_TIMER_H
#define TINYEDGE_TIMER_H

#include <stdint.h>

/* Values of the HELLO's timer unit (the protocol's TimerUnit). */
#define TIMER_UNIT_CYCLES 0u
#define TIMER_UNIT_INSTRUCTIONS 1u
#define TIMER_UNIT_NONE 2u

typedef struct {
  uint32_t unit;
  uint32_t units_per_tick;
  uint32_t (*now)(void); /* a free-running up-counter; differences modulo 2^32 are elapsed ticks */
} timer_source_t;

/* Starts the first timer that counts and returns it. */
timer_source_t timer_init(void);

/* The drivers: *_start returns 1 when the counter is seen moving. */
int timer_dwt_start(void);
uint32_t timer_dwt_now(void);
int timer_tim2_start(void);
uint32_t timer_tim2_now(void);
int timer_cmsdk_start(void);
uint32_t timer_cmsdk_now(void);

/* Spins long enough for any of the counters to move at least one tick (the CMSDK timer ticks every 40 instructions in QEMU). */
static inline void timer_settle(void) {
  for (volatile uint32_t i = 0; i < 64u; i++) {
  }
}

#endif
