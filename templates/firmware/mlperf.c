/*
 * The MLPerf Tiny DUT text protocol (see mlperf.h; the facts are in the MLCommons runner and the EEMBC reference
 * firmware): commands are gathered byte by byte, split at spaces and answered line by line, each answer closed by
 * "m-ready". Nothing is echoed. Lines go straight to the console: no printf, no line buffer, so m-results can be
 * as long as the output.
 */
#include "mlperf.h"
#include "console.h"
#include "text_format.h"
#include "uptime.h"

#define MAX_TOKENS 4u
/* How much of an unknown command or a bad digit an error line quotes. */
#define QUOTE_BYTES 24u

/* Why infer cannot run, or NULL (mlperf_init). The model itself is main.c's constant mlperf_model. */
static const char *unusable;

static char command[MLPERF_COMMAND_BYTES + 1u];
static uint32_t command_length;
static int command_overlong;

static uint32_t db_expected; /* bytes announced by the last db load; 0 before the first */
static uint32_t db_loaded;
static int have_results;
static float anomaly_score; /* of the last inference, so a later db cannot change it */

void mlperf_init(const char *why_unusable) {
  unusable = why_unusable;
}

/* ---- output ---------------------------------------------------------------------------------------------------- */

static void say(const char *text) {
  uint32_t length = 0;
  while (text[length]) length++;
  console_write((const uint8_t *)text, length);
}

static void say_line(const char *text) {
  say(text);
  say("\r\n");
}

/* `before`, then the number in decimal. */
static void say_number(const char *before, uint64_t value) {
  char digits[FORMAT_TEXT_BYTES];
  format_u64(digits, value);
  say(before);
  say(digits);
}

/* Most lines with a number are text, the number, text. */
static void say_number_line(const char *before, uint64_t value, const char *after) {
  say_number(before, value);
  say_line(after);
}

static void say_real(float value) {
  char digits[FORMAT_TEXT_BYTES];
  format_real(digits, value, MLPERF_RESULT_DECIMALS);
  say(digits);
}

/* Host-supplied text inside e-[...]: printable, no ']' that would end the brackets early, not too long. */
static void say_quoted(const char *text) {
  char quoted[QUOTE_BYTES + 4u];
  uint32_t length = 0;
  quoted[length++] = '\'';
  for (; *text && length <= QUOTE_BYTES; text++) quoted[length++] = *text == ']' ? '?' : *text;
  if (*text) {
    quoted[length++] = '.';
    quoted[length++] = '.';
  }
  quoted[length++] = '\'';
  console_write((const uint8_t *)quoted, length);
}

static void say_error(const char *message) {
  say("e-[");
  say(message);
  say_line("]");
}

/* ---- conversions ----------------------------------------------------------------------------------------------- */

static float dequantize(int8_t value, mlperf_quant_t quant) {
  return (float)((int32_t)value - quant.zero_point) * quant.scale;
}

/* TFLite's float -> int8: round half away from zero, add the zero point, saturate (NaN goes to the zero point). */
static int8_t quantize(float value, mlperf_quant_t quant) {
  float scaled = value / quant.scale;
  if (scaled != scaled) scaled = 0.0f;
  if (scaled > 512.0f) scaled = 512.0f;
  if (scaled < -512.0f) scaled = -512.0f;
  int32_t q = (int32_t)(scaled + (scaled < 0.0f ? -0.5f : 0.5f)) + quant.zero_point;
  if (q > 127) q = 127;
  if (q < -128) q = -128;
  return (int8_t)q;
}

static uint32_t db_capacity(void) {
  return mlperf_model.input_kind == MLPERF_INPUT_FLOAT32 ? mlperf_model.input_bytes * 4u : mlperf_model.input_bytes;
}

/* Bytes go where the model reads them at once, converted, except float values: infer quantizes those. */
static void db_store(uint32_t position, uint8_t byte) {
  switch (mlperf_model.input_kind) {
    case MLPERF_INPUT_UINT8:
      mlperf_model.input[position] = (int8_t)((int32_t)byte - 128);
      break;
    case MLPERF_INPUT_FLOAT32:
      ((uint8_t *)mlperf_model.float_input)[position] = byte; /* little-endian like every Cortex-M build here */
      break;
    default:
      mlperf_model.input[position] = (int8_t)byte;
      break;
  }
}

static void load_input(void) {
  if (mlperf_model.input_kind != MLPERF_INPUT_FLOAT32) return;
  for (uint32_t i = 0; i < mlperf_model.input_bytes; i++) {
    mlperf_model.input[i] = quantize(mlperf_model.float_input[i], mlperf_model.input_quant);
  }
}

/* Mean squared error between the reconstruction and what the host sent (or its dequantized bytes). */
static float mean_squared_error(void) {
  const mlperf_model_t *model = &mlperf_model;
  const uint32_t count = model->input_bytes < model->output_bytes ? model->input_bytes : model->output_bytes;
  float sum = 0.0f;
  for (uint32_t i = 0; i < count; i++) {
    const float sent = model->input_kind == MLPERF_INPUT_FLOAT32 ? model->float_input[i]
                                                                  : dequantize(model->input[i], model->input_quant);
    const float difference = dequantize(model->output[i], model->output_quant) - sent;
    sum += difference * difference;
  }
  return count ? sum / (float)count : 0.0f;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20; /* 'A'..'F' to 'a'..'f' */
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

static int same(const char *a, const char *b) {
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return *a == *b;
}

/* ---- commands -------------------------------------------------------------------------------------------------- */

static void command_name(char *const *tokens, uint32_t count) {
  (void)tokens;
  (void)count;
  say("m-name-dut-[");
  say(mlperf_model.name);
  say_line("]");
}

static void command_profile(char *const *tokens, uint32_t count) {
  (void)tokens;
  (void)count;
  say("m-profile-[");
  say(mlperf_model.profile);
  say_line("]");
  say("m-model-[");
  say(mlperf_model.model);
  say_line("]");
}

static void command_timestamp(char *const *tokens, uint32_t count) {
  (void)tokens;
  (void)count;
  say_number_line("m-lap-us-", uptime_us(), "");
}

static void command_db_load(char *const *tokens, uint32_t count) {
  uint32_t bytes;
  if (count != 3u || !parse_u32(tokens[2], &bytes)) {
    say_error("db load takes one decimal byte count");
    return;
  }
  if (bytes == 0u) {
    say_error("db load needs more than 0 bytes");
    return;
  }
  if (bytes > db_capacity()) {
    say_number("e-[db load of ", bytes);
    say_number_line(" bytes does not fit the input buffer of ", db_capacity(), " bytes]");
    return;
  }
  if (mlperf_model.input_kind == MLPERF_INPUT_FLOAT32 && bytes % 4u != 0u) {
    say_error("db load of float32 values needs a multiple of 4 bytes");
    return;
  }
  db_expected = bytes;
  db_loaded = 0;
  say_number_line("m-[Expecting ", bytes, " bytes]");
}

static void command_db_bytes(const char *hex) {
  uint32_t digits = 0;
  for (; hex[digits]; digits++) {
    if (hex_digit(hex[digits]) < 0) {
      say("e-[db takes hex digits, not ");
      say_quoted(hex + digits);
      say_line("]");
      return;
    }
  }
  if (digits % 2u != 0u) {
    say_error("db needs two hex digits per byte");
    return;
  }
  if (db_expected == 0u) {
    say_error("db needs a db load N first");
    return;
  }
  if (db_loaded == db_expected) {
    say_error("every byte of the last db load has arrived: db load again");
    return;
  }
  /* Digits past the announced count are ignored, as the reference firmware does. */
  for (uint32_t i = 0; i < digits && db_loaded < db_expected; i += 2u) {
    db_store(db_loaded++, (uint8_t)(hex_digit(hex[i]) * 16 + hex_digit(hex[i + 1u])));
  }
  if (db_loaded == db_expected) say_line("m-load-done");
}

static void command_db(char *const *tokens, uint32_t count) {
  if (count < 2u) {
    say_error("db needs load N or hex bytes");
  } else if (same(tokens[1], "load")) {
    command_db_load(tokens, count);
  } else if (count != 2u) {
    say_error("db takes one run of hex digits");
  } else {
    command_db_bytes(tokens[1]);
  }
}

static void print_results(void) {
  say("m-results-[");
  if (mlperf_model.result_kind == MLPERF_RESULT_ANOMALY) {
    say_real(anomaly_score);
  } else {
    for (uint32_t i = 0; i < mlperf_model.output_bytes; i++) {
      if (i) say(",");
      say_real(dequantize(mlperf_model.output[i], mlperf_model.output_quant));
    }
  }
  say_line("]");
}

/* During an MLPerf inference the only per-layer work is keeping the 64-bit time since boot. */
static void keep_time(uint32_t layer, int end) {
  (void)layer;
  (void)end;
  uptime_sample();
}

static int run_model(uint32_t times) {
  for (uint32_t i = 0; i < times; i++) {
    if (mlperf_model.run() != 0) return 0;
    uptime_sample();
  }
  return 1;
}

static void command_infer(char *const *tokens, uint32_t count) {
  uint32_t runs = 1u;
  uint32_t warmups = 10u; /* the reference firmware's defaults */
  if (count > 3u) {
    say_error("infer takes N and W");
    return;
  }
  if (count >= 2u && (!parse_u32(tokens[1], &runs) || runs == 0u)) {
    say_error("infer N needs a decimal N > 0");
    return;
  }
  if (count >= 3u && !parse_u32(tokens[2], &warmups)) {
    say_error("infer N W needs a decimal W >= 0");
    return;
  }
  if (unusable) {
    say_error(unusable);
    return;
  }
  load_input();
  have_results = 0;
  say_number_line("m-warmup-start-", warmups, "");
  mlperf_model.set_layer_hook(keep_time);
  int ok = run_model(warmups);
  uint64_t started = 0;
  uint64_t finished = 0;
  if (ok) {
    say_line("m-warmup-done");
    say_number_line("m-infer-start-", runs, "");
    /* Both laps are printed after the timed runs, so no console output falls between them. */
    started = uptime_units();
    ok = run_model(runs);
    finished = uptime_units();
  }
  mlperf_model.set_layer_hook(mlperf_model.profiling_hook);
  if (!ok) {
    say_error("the model returned an error");
    return;
  }
  say_number_line("m-lap-us-", uptime_to_us(started), "");
  say_number_line("m-lap-us-", uptime_to_us(finished), "");
  say_line("m-infer-done");
  if (mlperf_model.result_kind == MLPERF_RESULT_ANOMALY) anomaly_score = mean_squared_error();
  have_results = 1;
  print_results();
}

static void command_results(char *const *tokens, uint32_t count) {
  (void)tokens;
  (void)count;
  if (!have_results) {
    say_error("no inference has run yet: infer first");
    return;
  }
  print_results();
}

/* Splits at spaces in place; more than MAX_TOKENS tokens counts as MAX_TOKENS + 1. */
static uint32_t split(char *text, char **tokens) {
  uint32_t count = 0;
  while (*text) {
    while (*text == ' ') *text++ = 0;
    if (!*text) break;
    if (count == MAX_TOKENS) return MAX_TOKENS + 1u;
    tokens[count++] = text;
    while (*text && *text != ' ') text++;
  }
  return count;
}

/* The commands; those that take no arguments are refused with any. */
static const struct {
  const char *word;
  int takes_arguments;
  void (*run)(char *const *tokens, uint32_t count);
} COMMANDS[] = {
    {"name", 0, command_name},       {"profile", 0, command_profile}, {"timestamp", 0, command_timestamp},
    {"results", 0, command_results}, {"db", 1, command_db},           {"infer", 1, command_infer},
};

#define COMMAND_COUNT (sizeof COMMANDS / sizeof COMMANDS[0])

/* The index of `word` in COMMANDS, COMMAND_COUNT when it is none of them. */
static uint32_t find_command(const char *word) {
  uint32_t index = 0;
  while (index < COMMAND_COUNT && !same(word, COMMANDS[index].word)) index++;
  return index;
}

static void execute(char *text) {
  char *tokens[MAX_TOKENS];
  const uint32_t count = split(text, tokens);
  if (count > MAX_TOKENS) {
    say_error("too many arguments");
  } else if (count == 0u) {
    /* A bare '%': hosts send one to flush a half-sent command; the answer is just m-ready. */
  } else {
    const uint32_t index = find_command(tokens[0]);
    if (index == COMMAND_COUNT) {
      say("e-[unknown command ");
      say_quoted(tokens[0]);
      say_line(", try name, profile, db, infer, results or timestamp]");
    } else if (count > 1u && !COMMANDS[index].takes_arguments) {
      say("e-[");
      say(COMMANDS[index].word);
      say_line(" takes no arguments]");
    } else {
      COMMANDS[index].run(tokens, count);
    }
  }
  say_line("m-ready");
}

void mlperf_cancel(void) {
  command_length = 0;
  command_overlong = 0;
}

void mlperf_take(uint8_t byte) {
  if (byte == (uint8_t)MLPERF_TERMINATOR) {
    if (command_overlong) {
      say_number_line("e-[command longer than ", MLPERF_COMMAND_BYTES, " characters]");
      say_line("m-ready");
    } else {
      command[command_length] = 0;
      execute(command);
    }
    mlperf_cancel();
  } else if (byte < 0x20u || byte > 0x7Eu) {
    mlperf_cancel();
  } else if (command_length < MLPERF_COMMAND_BYTES) {
    command[command_length++] = (char)byte;
  } else {
    command_overlong = 1;
  }
}
