/* Decimal text for the MLPerf protocol: see text_format.h. */
#include "text_format.h"

static uint32_t copy_text(char *out, const char *text) {
  uint32_t length = 0;
  while (text[length]) {
    out[length] = text[length];
    length++;
  }
  out[length] = 0;
  return length;
}

uint64_t divide_u64(uint64_t dividend, uint32_t divisor, uint32_t *remainder) {
  uint32_t high = (uint32_t)(dividend >> 32);
  uint32_t low = (uint32_t)dividend;
  uint32_t rest = 0;
  /* Shift the dividend into `rest` a bit at a time; the freed low bits collect the quotient. */
  for (uint32_t bit = 0; bit < 64u; bit++) {
    const uint32_t carry = rest >> 31;
    rest = (rest << 1) | (high >> 31);
    high = (high << 1) | (low >> 31);
    low <<= 1;
    if (carry || rest >= divisor) {
      rest -= divisor;
      low |= 1u;
    }
  }
  *remainder = rest;
  return ((uint64_t)high << 32) | low;
}

uint32_t format_u64(char *out, uint64_t value) {
  char reversed[20];
  uint32_t count = 0;
  do {
    uint32_t digit;
    value = divide_u64(value, 10u, &digit);
    reversed[count++] = (char)('0' + digit);
  } while (value != 0u);
  for (uint32_t i = 0; i < count; i++) out[i] = reversed[count - 1u - i];
  out[count] = 0;
  return count;
}

uint32_t format_u32(char *out, uint32_t value) {
  return format_u64(out, value);
}

/*
 * The integer part of a non-negative float below 2^64. From 2^32 up it is read off the bits (floats there are whole
 * numbers): converting a float to 64 bits would pull libgcc's double-precision routines into the image.
 */
static uint64_t whole_part(float magnitude) {
  if (magnitude < 4294967296.0f) return (uint32_t)magnitude;
  union {
    float value;
    uint32_t bits;
  } pun = {magnitude};
  const uint32_t exponent = ((pun.bits >> 23) & 0xFFu) - 127u; /* 32..63 here */
  const uint64_t mantissa = (pun.bits & 0x7FFFFFu) | 0x800000u;
  return mantissa << (exponent - 23u);
}

uint32_t format_real(char *out, float value, uint32_t decimals) {
  if (value != value) return copy_text(out, "nan");
  char *end = out;
  float magnitude = value;
  if (value < 0.0f) {
    *end++ = '-';
    magnitude = -value;
  }
  if (magnitude > 3.4028235e38f) return (uint32_t)(end - out) + copy_text(end, "inf");
  if (decimals > FORMAT_MAX_DECIMALS) decimals = FORMAT_MAX_DECIMALS;

  /* Far beyond any score or probability: keep the leading digits exact enough and say where the point goes. */
  uint32_t exponent = 0;
  while (magnitude >= 1e18f) {
    magnitude /= 10.0f;
    exponent++;
    decimals = 0;
  }

  /* Floats from 2^24 up are whole numbers; below, the whole part and magnitude - whole are exact in float. */
  uint64_t whole = whole_part(magnitude);
  uint32_t unit = 1; /* one in the last decimal place, 10^decimals */
  for (uint32_t i = 0; i < decimals; i++) unit *= 10u;
  uint32_t fraction = 0;
  if (magnitude < 16777216.0f) fraction = (uint32_t)((magnitude - (float)(uint32_t)whole) * (float)unit + 0.5f);
  if (fraction >= unit) {
    fraction -= unit;
    whole++;
  }
  if (whole == 0u && fraction == 0u) end = out; /* what rounds to zero has no sign */
  end += format_u64(end, whole);
  if (decimals != 0u) {
    /* The fraction's digits with leading zeros kept: 3906 with 6 decimals is "003906". */
    *end++ = '.';
    for (uint32_t i = decimals; i > 0u; i--) {
      end[i - 1u] = (char)('0' + fraction % 10u);
      fraction /= 10u;
    }
    end += decimals;
  }
  if (exponent != 0u) {
    *end++ = 'e';
    end += format_u32(end, exponent);
  }
  *end = 0;
  return (uint32_t)(end - out);
}

int parse_u32(const char *text, uint32_t *value) {
  uint32_t result = 0;
  if (!text || !*text) return 0;
  for (; *text; text++) {
    if (*text < '0' || *text > '9') return 0;
    const uint32_t digit = (uint32_t)(*text - '0');
    if (result > (0xFFFFFFFFu - digit) / 10u) return 0;
    result = result * 10u + digit;
  }
  *value = result;
  return 1;
}
