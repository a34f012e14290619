/* The 64-bit time since boot: see uptime.h. */
#include "uptime.h"
#include "text_format.h"

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

uint64_t uptime_to_us(uint64_t units) {
  uint32_t rest;
  uint32_t ignored;
  /* Whole seconds and the rest apart, so that units * 10^6 cannot overflow however long the board runs. */
  const uint64_t seconds = divide_u64(units, core_hz, &rest);
  return seconds * 1000000u + divide_u64((uint64_t)rest * 1000000u, core_hz, &ignored);
}

uint64_t uptime_us(void) {
  return uptime_to_us(uptime_units());
}
