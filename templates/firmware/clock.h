/* The clock set-up run at boot: one implementation per chip family (clock_<family>.c). */
#ifndef TINYEDGE_CLOCK_H
#define TINYEDGE_CLOCK_H

#include <stdint.h>

typedef struct {
  uint32_t core_hz;    /* the core clock actually running */
  uint32_t console_hz; /* the console UART's kernel clock */
  int pll_locked;      /* 0: a ready bit never came (QEMU's RCC reads 0), the chip runs on its reset clock */
} clock_state_t;

clock_state_t clock_init(void);

/*
 * Polls until (*reg & mask) == value, for at most `limit` reads: a ready bit that never comes (an emulator's RCC,
 * a broken oscillator) must leave the board on its reset clock, not hang it.
 */
static inline int clock_wait(volatile uint32_t *reg, uint32_t mask, uint32_t value) {
  for (uint32_t i = 0; i < 200000u; i++) {
    if ((*reg & mask) == value) return 1;
  }
  return 0;
}

#endif
