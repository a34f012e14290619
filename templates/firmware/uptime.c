/* The 64-bit time since boot: see uptime.h. */
#include "uptime.h"

static uint32_t (*read_counter)(void);
static uint32_t units_per_tick = 1u;
static uint32_t core_hz = 1000000u;
static uint32_t last_ticks;
static uint32_t wraps;

void uptime_init(const timer_source_t *timer, uint32_t hz) {
  read_counter = timer->now;
  units_per_tick = timer->units_per_tick;
  core_hz = hz ? hz : 1000000u;
  wraps = 0;
  last_ticks = read_counter();
}

void uptime_sample(void) {
  const uint32_t ticks = read_counter();
  if (ticks < last_ticks) wraps++;
  last_ticks = ticks;
}

uint64_t uptime_units(void) {
  uptime_sample();
  return (((uint64_t)wraps << 32) | last_ticks) * units_per_tick;
}

uint64_t uptime_us(void) {
  const uint64_t units = uptime_units();
  /* Whole seconds and the rest apart, so that units * 10^6 cannot overflow however long the board runs. */
  return (units / core_hz) * 1000000u + ((units % core_hz) * 1000000u) / core_hz;
}
