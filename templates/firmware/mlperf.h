/*
 * The MLPerf Tiny / EEMBC device-under-test text protocol (the MLCommons host runner's), beside the framed one on
 * the same console: ASCII commands ending in '%', answered by "\r\n"-terminated lines, the last always "m-ready".
 * Commands: name, profile, db load N, db HEX, infer N W, results, timestamp. The host side is src/agent/mlperf.ts.
 */
#ifndef TINYEDGE_MLPERF_H
#define TINYEDGE_MLPERF_H

#include <stdint.h>

/* The DUT's command buffer: longer commands are refused with an e-[...] line. */
#define MLPERF_COMMAND_BYTES 80u
#define MLPERF_TERMINATOR '%'
/* Digits after the point in m-results: a dequantized softmax step (1/256) still shows. */
#define MLPERF_RESULT_DECIMALS 6u

/* How the bytes of `db` become the model's (int8) input. */
typedef enum {
  MLPERF_INPUT_INT8,    /* kws01, and any model without a known MLPerf id: the bytes as they are */
  MLPERF_INPUT_UINT8,   /* vww01, ic01: RGB bytes x, given to the model as x - 128 */
  MLPERF_INPUT_FLOAT32, /* ad01: little-endian float32 values, quantized with the input's scale and zero point */
} mlperf_input_kind_t;

/* What m-results holds. */
typedef enum {
  MLPERF_RESULT_SCORES,  /* output 0 dequantized: class probabilities for the classifiers */
  MLPERF_RESULT_ANOMALY, /* ad01: mean squared error between output 0 (dequantized) and the real input */
} mlperf_result_kind_t;

typedef struct {
  float scale;
  int32_t zero_point;
} mlperf_quant_t;

/* Everything the protocol needs from the firmware around it: main.c defines it (mlperf_model below). */
typedef struct {
  const char *name;    /* after m-name-dut-: the vendor */
  const char *profile; /* after m-profile- */
  const char *model;   /* after m-model-: kws01, vww01, ic01, ad01, or the library prefix */
  mlperf_input_kind_t input_kind;
  mlperf_result_kind_t result_kind;
  int8_t *input; /* the model's input 0 */
  uint32_t input_bytes;
  const int8_t *output; /* the model's output 0 */
  uint32_t output_bytes;
  /* MLPERF_INPUT_FLOAT32: input_bytes floats holding the db bytes, kept for the anomaly score. */
  float *float_input;
  mlperf_quant_t input_quant;  /* {1, 0} when the library does not state it */
  mlperf_quant_t output_quant;
  int (*run)(void); /* one inference from input to output; 0 on success */
  void (*set_layer_hook)(void (*hook)(uint32_t layer, int end));
  void (*profiling_hook)(uint32_t layer, int end); /* the framed protocol's hook, put back after an inference */
} mlperf_model_t;

/* The firmware's model, defined in main.c. */
extern const mlperf_model_t mlperf_model;

/* At boot: `unusable` is NULL when the model can run, otherwise why not (infer answers it in e-[...]). */
void mlperf_init(const char *unusable);
/* A byte of a text command; the command runs when its '%' arrives. Bytes other than printable ASCII cancel it. */
void mlperf_take(uint8_t byte);
/* A framed message begins: forget any partly received text command. */
void mlperf_cancel(void);

#endif
