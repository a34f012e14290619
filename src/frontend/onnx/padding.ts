/** ONNX pads / auto_pad / ceil_mode -> the explicit IR Padding2D. */
import { NodeError } from '../../errors.js';
import type { Padding2D } from '../../ir/types.js';
import type { OnnxNode } from './model.js';
import { Unsupported } from './unsupported.js';

export interface WindowGeometry {
  /** Spatial input size [H, W]. */
  input: [number, number];
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
}

/** Explicit padding of a 2-D window op (Conv, pools) from `pads` or `auto_pad`. */
export function windowPadding(node: OnnxNode, geometry: WindowGeometry): Padding2D {
  const autoPad = node.attrs.string('auto_pad', 'NOTSET');
  const before = [0, 0];
  const after = [0, 0];
  switch (autoPad) {
    case 'NOTSET':
    case '': {
      const pads = node.attrs.ints('pads') ?? [0, 0, 0, 0];
      if (pads.length !== 4) throw new NodeError(node.name, node.opType, `pads [${pads.join(', ')}] should have 4 values for a 2-D window`);
      if (pads.some((p) => p < 0)) throw new NodeError(node.name, node.opType, `negative pads [${pads.join(', ')}]`);
      before[0] = pads[0]!;
      before[1] = pads[1]!;
      after[0] = pads[2]!;
      after[1] = pads[3]!;
      break;
    }
    case 'VALID':
      break;
    case 'SAME_UPPER':
    case 'SAME_LOWER':
      for (let i = 0; i < 2; i++) {
        const size = geometry.input[i]!;
        const stride = geometry.stride[i]!;
        const effective = (geometry.kernel[i]! - 1) * geometry.dilation[i]! + 1;
        const total = Math.max(0, (Math.ceil(size / stride) - 1) * stride + effective - size);
        const small = Math.floor(total / 2);
        // SAME_UPPER puts the odd pixel at the end, SAME_LOWER at the beginning.
        before[i] = autoPad === 'SAME_UPPER' ? small : total - small;
        after[i] = total - before[i]!;
      }
      break;
    default:
      throw new NodeError(node.name, node.opType, `unknown auto_pad '${autoPad}'`);
  }
  return { top: before[0]!, left: before[1]!, bottom: after[0]!, right: after[1]! };
}

/**
 * Pooling padding with ceil_mode folded in: the extra bottom/right padding that makes floor() give the ceil-mode
 * output size. The last window must still start inside the input or its leading padding (ONNX, PyTorch).
 */
export function poolPadding(node: OnnxNode, geometry: WindowGeometry): Padding2D {
  const padding = windowPadding(node, geometry);
  if (node.attrs.int('ceil_mode', 0) === 0) return padding;
  const begin = [padding.top, padding.left];
  const end = [padding.bottom, padding.right];
  for (let i = 0; i < 2; i++) {
    const size = geometry.input[i]! + begin[i]! + end[i]!;
    const span = size - geometry.kernel[i]!;
    const stride = geometry.stride[i]!;
    let outputs = Math.ceil(span / stride) + 1;
    if ((outputs - 1) * stride >= geometry.input[i]! + begin[i]!) outputs--;
    const needed = (outputs - 1) * stride + geometry.kernel[i]! - size;
    if (needed > 0) end[i]! += needed;
  }
  return { top: begin[0]!, left: begin[1]!, bottom: end[0]!, right: end[1]! };
}

export function hasPadding(padding: Padding2D): boolean {
  return padding.top + padding.bottom + padding.left + padding.right > 0;
}

/** kernel_shape / strides / dilations of a 2-D window op. */
export function windowAttributes(node: OnnxNode, kernelFromWeights?: [number, number]): { kernel: [number, number]; stride: [number, number]; dilation: [number, number] } {
  const kernelAttr = node.attrs.ints('kernel_shape');
  if (kernelAttr && kernelAttr.length !== 2) throw new Unsupported(`${kernelAttr.length}-D window (tinyedge supports 2-D)`);
  if (kernelAttr && kernelFromWeights && (kernelAttr[0] !== kernelFromWeights[0] || kernelAttr[1] !== kernelFromWeights[1])) {
    throw new NodeError(node.name, node.opType, `kernel_shape [${kernelAttr.join(', ')}] differs from the weights' [${kernelFromWeights.join(', ')}]`);
  }
  const kernel = (kernelAttr ?? kernelFromWeights) as [number, number] | undefined;
  if (!kernel) throw new NodeError(node.name, node.opType, 'has no kernel_shape');
  const stride = (node.attrs.ints('strides') ?? [1, 1]) as [number, number];
  const dilation = (node.attrs.ints('dilations') ?? [1, 1]) as [number, number];
  if (stride.length !== 2 || dilation.length !== 2) throw new NodeError(node.name, node.opType, 'strides and dilations need 2 values for a 2-D window');
  if (stride.some((s) => s < 1) || dilation.some((d) => d < 1)) throw new NodeError(node.name, node.opType, 'strides and dilations must be positive');
  return { kernel: [kernel[0], kernel[1]], stride: [stride[0], stride[1]], dilation: [dilation[0], dilation[1]] };
}
