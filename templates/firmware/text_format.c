/* Decimal text for the MLPerf protocol: see text_format.h. */
#include "text_format.h"

static const uint32_t POWERS_OF_TEN[FORMAT_MAX_DECIMALS + 1u] = {
    1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u, 1000000000u,
};

static uint32_t copy_text(char *out, const char *text) {
  uint32_t length = 0;
  while (text[length]) {
    out[length] = text[length];
    length++;
  }
  out[length] = 0;
  return length;
}

uint32_t format_u64(char *out, uint64_t value) {
  char reversed[20];
  uint32_t count = 0;
  /* Split off nine digits at a time so that the 64-bit division runs at most twice per number. */
  do {
    uint32_t low = (uint32_t)(value % 1000000000u);
    value /= 1000000000u;
    for (uint32_t i = 0; i < 9u && (low != 0u || value != 0u || i == 0u); i++) {
      reversed[count++] = (char)('0' + low % 10u);
      low /= 10u;
    }
  } while (value != 0u);
  for (uint32_t i = 0; i < count; i++) out[i] = reversed[count - 1u - i];
  out[count] = 0;
  return count;
}

uint32_t format_u32(char *out, uint32_t value) {
  return format_u64(out, value);
}

/* Digits of `fraction` (< 10^decimals) with leading zeros kept: 3906 with 6 decimals is "003906". */
static uint32_t format_fraction(char *out, uint32_t fraction, uint32_t decimals) {
  for (uint32_t i = decimals; i > 0u; i--) {
    out[i - 1u] = (char)('0' + fraction % 10u);
    fraction /= 10u;
  }
  out[decimals] = 0;
  return decimals;
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
  const int negative = value < 0.0f;
  const float magnitude = negative ? -value : value;
  if (magnitude > 3.4028235e38f) return copy_text(out, negative ? "-inf" : "inf");
  if (decimals > FORMAT_MAX_DECIMALS) decimals = FORMAT_MAX_DECIMALS;

  uint32_t length = 0;
  if (magnitude >= 1e18f) {
    /* Far beyond any score or probability; keep the leading digits exact enough and say where the point goes. */
    float scaled = magnitude;
    uint32_t exponent = 0;
    while (scaled >= 1e18f) {
      scaled /= 10.0f;
      exponent++;
    }
    if (negative) out[length++] = '-';
    length += format_u64(out + length, whole_part(scaled));
    out[length++] = 'e';
    return length + format_u32(out + length, exponent);
  }

  /* Floats from 2^24 up are whole numbers; below, the whole part and magnitude - whole are exact in float. */
  uint64_t whole = whole_part(magnitude);
  uint32_t fraction = 0;
  if (magnitude < 16777216.0f) {
    const float scale = (float)POWERS_OF_TEN[decimals];
    fraction = (uint32_t)((magnitude - (float)(uint32_t)whole) * scale + 0.5f);
  }
  if (fraction >= POWERS_OF_TEN[decimals]) {
    fraction -= POWERS_OF_TEN[decimals];
    whole++;
  }
  if (negative && (whole != 0u || fraction != 0u)) out[length++] = '-';
  length += format_u64(out + length, whole);
  if (decimals == 0u) return length;
  out[length++] = '.';
  return length + format_fraction(out + length, fraction, decimals);
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
