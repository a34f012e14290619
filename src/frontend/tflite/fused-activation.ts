/**
 * A fused activation function becomes the clamp of the op's output in its quantized domain, as TFLite's
 * CalculateActivationRangeQuantized computes it: the real bounds 0, 6, -1, 1 quantized with the output's scale and
 * zero point (f / S in float32, rounded half away from zero), intersected with the range of the output type.
 */
import { roundHalfAway } from '../../quant/fixedpoint.js';
import type { Clamp, DataType, Tensor } from '../../ir/types.js';
import { Unsupported } from './ops/context.js';
import { ACTIVATION_NAMES, Activation } from './schema.js';

const QUANTIZED_RANGE: Partial<Record<DataType, Clamp>> = {
  int8: { min: -128, max: 127 },
  int16: { min: -32768, max: 32767 },
  uint8: { min: 0, max: 255 },
};

/** The whole range of a quantized dtype: the clamp of an op with no activation. */
export function fullRange(dtype: DataType): Clamp {
  const range = QUANTIZED_RANGE[dtype];
  if (!range) throw new Unsupported(`its output is ${dtype}, not a quantized type`);
  return { ...range };
}

export function fusedActivationClamp(activation: number, output: Tensor): Clamp {
  const { min: qmin, max: qmax } = fullRange(output.dtype);
  const scale = output.quant?.scale[0];
  const zeroPoint = output.quant?.zeroPoint[0];
  if (activation === Activation.NONE) return { min: qmin, max: qmax };
  if (scale === undefined || zeroPoint === undefined || !(scale > 0)) {
    throw new Unsupported(`its fused ${ACTIVATION_NAMES[activation] ?? activation} needs a quantized output`);
  }
  const quantize = (real: number): number => zeroPoint + roundHalfAway(Math.fround(real / scale));
  switch (activation) {
    case Activation.RELU:
      return { min: Math.max(qmin, quantize(0)), max: qmax };
    case Activation.RELU6:
      return { min: Math.max(qmin, quantize(0)), max: Math.min(qmax, quantize(6)) };
    case Activation.RELU_N1_TO_1:
      return { min: Math.max(qmin, quantize(-1)), max: Math.min(qmax, quantize(1)) };
    default:
      throw new Unsupported(`fused activation ${ACTIVATION_NAMES[activation] ?? activation} is not supported`);
  }
}
