/**
 * The peer the bench compares against: TFLite-Micro with ARM's CMSIS-NN kernels, measured on the same emulated
 * STM32F405 the bench runs on, counted the same way (exact guest instructions under QEMU -icount shift=0).
 *
 * Source of every number below: ../shared/docs/BASELINES.md, section "The same emulated board, side by side:
 * TFLite-Micro + CMSIS-NN" (the table, the RAM figures under "Where TFLite-Micro + CMSIS-NN spends its
 * instructions", and the portable-kernel totals). Copy changes from there; do not edit them here.
 *
 * The bars are issue 7's acceptance criteria (instructions <= 0.6x, arena <= 0.7x, code without weights <= 0.5x).
 */
import type { BenchModelId } from './models.js';

export interface Baseline {
  /** The row of the BASELINES.md table. */
  label: string;
  /** Exact guest instructions per inference (one Invoke()). */
  instructions: number;
  instructionsPerMac: number;
  /** MLPerf convention: convolutions, depthwise convolutions and fully connected layers only. */
  macs: number;
  /** TFLite-Micro's arena_used_bytes (the input and output tensors live in it). */
  arenaUsedBytes: number;
  /** Interpreter + kernels flash: text + data - model - vectors (harness and C library included). */
  interpreterAndKernelsFlashBytes: number;
  /** RAM needed in all: smallest working arena + other bss + data + stack. */
  ramBytes: number;
  /** The same TFLite-Micro with its portable reference kernels instead of CMSIS-NN (BASELINES.md gives 3 digits). */
  portableKernelsInstructions: number;
}

/** How the baseline was measured (BASELINES.md), carried into bench.json so a reader knows what the ratios mean. */
export const BASELINE_SOURCE = {
  document: '../shared/docs/BASELINES.md',
  section: 'The same emulated board, side by side: TFLite-Micro + CMSIS-NN',
  system: 'TFLite-Micro (tensorflow/tflite-micro @ 90b983c2) + CMSIS-NN kernels, DSP extension on',
  build: 'TARGET=cortex_m_generic TARGET_ARCH=cortex-m4+fp OPTIMIZED_KERNEL_DIR=cmsis_nn, release, arm-none-eabi-gcc 12.2, hard float',
  board: 'QEMU 7.2 netduinoplus2 (STM32F405, Cortex-M4F), -icount shift=0',
  measured: '2026-11-28',
} as const;

export const BASELINES: Readonly<Partial<Record<BenchModelId, Baseline>>> = {
  kws: {
    label: 'KWS DS-CNN (kws_ref_model)',
    instructions: 7_697_228,
    instructionsPerMac: 2.9,
    macs: 2_656_768,
    arenaUsedBytes: 22_820,
    interpreterAndKernelsFlashBytes: 54_130,
    ramBytes: 24_348,
    portableKernelsInstructions: 43_100_000,
  },
  vww: {
    label: 'VWW MobileNetV1 0.25 (vww_96_int8)',
    instructions: 24_101_524,
    instructionsPerMac: 3.22,
    macs: 7_489_664,
    arenaUsedBytes: 100_708,
    interpreterAndKernelsFlashBytes: 54_146,
    ramBytes: 102_236,
    portableKernelsInstructions: 100_400_000,
  },
  ic: {
    label: 'IC ResNet-8 (resnet8_int8)',
    instructions: 29_863_091,
    instructionsPerMac: 2.39,
    macs: 12_501_632,
    arenaUsedBytes: 54_996,
    interpreterAndKernelsFlashBytes: 51_950,
    ramBytes: 56_524,
    portableKernelsInstructions: 107_400_000,
  },
  ad: {
    label: 'AD autoencoder (ad01_int8)',
    instructions: 582_826,
    instructionsPerMac: 2.21,
    macs: 264_192,
    arenaUsedBytes: 2_580,
    interpreterAndKernelsFlashBytes: 28_776,
    ramBytes: 3_952,
    portableKernelsInstructions: 1_950_000,
  },
  // person_detect: BASELINES.md has no TFLite-Micro figure for it; the bench measures it without a comparison.
};

/** Issue 7's bars: ours / theirs must be at most this. */
export const BARS = {
  instructions: 0.6,
  arena: 0.7,
  code: 0.5,
} as const;

export type BarName = keyof typeof BARS;
