/**
 * What a lowering decides for one layer: which kernel template to render and with which compile-time constants.
 * Lowerings are pure functions of (graph, node); they neither know offsets nor C symbol names, which
 * generateLibrary assigns afterwards.
 */
import type { DataType, Graph } from '../ir/types.js';
import { NodeError } from '../errors.js';

export type CType = 'int8_t' | 'uint8_t' | 'int16_t' | 'uint16_t' | 'int32_t' | 'float';

/** A constant array the kernel reads by name (weights, biases, multipliers, tables): emitted into the weights file. */
export interface ConstantArray {
  /** The template refers to it as `{{sym.<role>}}`. */
  role: string;
  ctype: CType;
  values: ArrayLike<number>;
  /** For the comment above the array. */
  describe: string;
}

export interface KernelCall {
  /** Template file under templates/kernels/, without `.c.hbs`. */
  template: string;
  /** Stem of the generated function's name, CMSIS-NN style (`te_conv2d_s8`); the layer index is appended. */
  name: string;
  /** Compile-time constants the template uses. Numbers and booleans only (strings: identifiers built here). */
  params: Record<string, unknown>;
  /** Tensors the kernel reads at run time, in the order of its parameters (constant operands included). */
  inputs: string[];
  outputs: string[];
  /** Bytes of arena scratch the kernel needs while it runs (its last parameter), with what it holds. */
  scratch?: { bytes: number; purpose: string };
  constants: ConstantArray[];
  /** The kernel calls the fixed-point reciprocal helpers (te_fixedpoint's optional part). */
  usesReciprocal?: boolean;
  /** How a weighted layer stores its weights (src/codegen/lower/sparse.ts decides), for the report. */
  weights?: WeightStorage;
  /**
   * The template writes output pixel p at `output + p * outputPixelStride` elements when the parameter
   * `outputPixelStride` is set (at its own channel count otherwise), so its output can be a channel slice of a
   * zero-copy concatenation (src/codegen/lower/concat-in-place.ts; the portable templates are listed there).
   */
  stridedOutput?: boolean;
  /**
   * Functions this layer's kernel calls that other layers may call too (code size: layers of one form share one
   * function, their shapes and constant arrays passed as arguments). Rendered once per distinct key.
   */
  shared?: SharedFunction[];
  /**
   * Inputs whose bytes the kernel can safely overwrite with its output (see src/codegen/lower/in-place.ts): the
   * planner places the output over the input where that lowers the arena, and the template then gets the parameter
   * `inPlace: true` (and the option's scratch instead of `scratch`).
   */
  inPlace?: InPlaceOption[];
}

/** A function shared by the layers whose kernels have the same form (see KernelCall.shared). */
export interface SharedFunction {
  /** Template under templates/kernels/, without `.c.hbs`; it names its functions after `key`. */
  template: string;
  /** A C identifier naming the form (`te_dw_s8_dsp_3x3s1_fast`); equal keys must come with equal params. */
  key: string;
  params: Record<string, unknown>;
}

/**
 * How a kernel may compute its output over one of its inputs. `align` says where the output lies relative to that
 * input: both starting at the same byte, or both ending at the same byte (an output larger than its input whose
 * pixels are written in order after the input pixels they read: the input sits at the output's end).
 */
export interface InPlaceOption {
  input: string;
  align: 'start' | 'end';
  /** Arena scratch the kernel needs when it runs in place (it replaces KernelCall.scratch), e.g. a ring of rows. */
  scratch?: { bytes: number; purpose: string };
}

/** A weighted layer's weight storage: the format chosen and its bytes against the dense int8 array's. */
export interface WeightStorage {
  format: 'dense' | 'sparse-delta8';
  /** Bytes of the weights as stored (for sparse: entries and per-channel counts). */
  bytes: number;
  denseBytes: number;
  /** Fraction of the weights equal to their zero point. */
  sparsity: number;
}

/** A layer that needs no code (a Reshape aliasing its input), and why, for the comment in run(). */
export interface NoCode {
  noCode: string;
}

export type Lowering = KernelCall | NoCode;

export function isKernelCall(lowering: Lowering): lowering is KernelCall {
  return (lowering as KernelCall).template !== undefined;
}

export function ctypeOf(dtype: DataType, node?: { name: string; op: string }): CType {
  switch (dtype) {
    case 'int8':
      return 'int8_t';
    case 'uint8':
      return 'uint8_t';
    case 'int16':
      return 'int16_t';
    case 'int32':
      return 'int32_t';
    case 'float32':
      return 'float';
    case 'int64':
      if (node) throw new NodeError(node.name, node.op, 'int64 tensors have no code generation (only the reference runs them)');
      throw new Error('int64 tensors have no C type in tinyedge');
  }
}

export interface LowerContext {
  graph: Graph;
}
