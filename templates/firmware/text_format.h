/*
 * Decimal text without printf: newlib's printf with floating point costs tens of kilobytes of flash, and the MLPerf
 * text protocol needs only integers and a few reals per line. Every function writes a NUL-terminated string into
 * `out` and returns its length (without the NUL).
 */
#ifndef TINYEDGE_TEXT_FORMAT_H
#define TINYEDGE_TEXT_FORMAT_H

#include <stdint.h>

/* Room for any string these functions write, NUL included. */
#define FORMAT_TEXT_BYTES 32u
/* The most decimals format_real prints. */
#define FORMAT_MAX_DECIMALS 9u

/*
 * dividend / divisor and its remainder. The firmware's only 64-bit divisions (decimal digits, microseconds since
 * boot) go through this loop rather than libgcc's __udivmoddi4, which would add 0.7 KB of flash for them.
 */
uint64_t divide_u64(uint64_t dividend, uint32_t divisor, uint32_t *remainder);

uint32_t format_u32(char *out, uint32_t value);
uint32_t format_u64(char *out, uint64_t value);

/*
 * A float as fixed-point decimal text with `decimals` digits after the point, rounded half up: "-0.003906",
 * "12.500000". What Python's float() reads back: "nan", "inf", "-inf"; magnitudes of 10^18 and beyond as
 * "<integer>e<exponent>". A value that rounds to zero has no minus sign.
 */
uint32_t format_real(char *out, float value, uint32_t decimals);

/* Parses a whole string of decimal digits that fits in 32 bits: 1 on success, 0 otherwise (empty, sign, overflow). */
int parse_u32(const char *text, uint32_t *value);

#endif
