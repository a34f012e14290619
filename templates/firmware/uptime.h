/*
 * Time since boot for the MLPerf protocol's m-lap-us: the 32-bit timer (timer.h) extended to 64 bits, converted to
 * microseconds with the core clock.
 *
 * The extension counts wraps, so it must see the counter at least once per wrap: 2^32 ticks are 4.3 s of TIM2 in
 * QEMU (1 GHz) and 25 s of DWT at 168 MHz. The firmware samples it while it waits for the console and around every
 * layer of an MLPerf inference.
 *
 * Microseconds are timer units (cycles, or instructions in QEMU) divided by the core clock in MHz. In QEMU under
 * -icount shift=0 the units are instructions and the clock is the one the HELLO reports (the STM32's 16 MHz reset
 * clock), so an emulated "microsecond" is 16 instructions: instruction counts on a time scale, not real time.
 */
#ifndef TINYEDGE_UPTIME_H
#define TINYEDGE_UPTIME_H

#include <stdint.h>
#include "timer.h"

void uptime_init(const timer_source_t *timer, uint32_t core_hz);
/* Looks at the counter; cheap enough to call in any loop. */
void uptime_sample(void);
/* Timer units (cycles or instructions) since boot. */
uint64_t uptime_units(void);
uint64_t uptime_us(void);
/* Timer units as microseconds: a division loop of some hundred cycles; timed code reads units, converts after. */
uint64_t uptime_to_us(uint64_t units);

#endif
