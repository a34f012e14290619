/** Typed access to an ONNX node's attributes; a wrong attribute type is the model's fault (NodeError). */
import { NodeError } from '../../errors.js';
import { int64ToNumber, onnx, type AttributeProto } from './proto.js';
import { decodeTensorProto, type OnnxTensorValue } from './tensor-proto.js';

const { AttributeType } = onnx.AttributeProto;

export class Attributes {
  private readonly byName = new Map<string, AttributeProto>();

  constructor(
    private readonly node: string,
    private readonly op: string,
    attributes: readonly AttributeProto[],
  ) {
    for (const attribute of attributes) this.byName.set(attribute.name ?? '', attribute);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  int(name: string, fallback: number): number;
  int(name: string): number | undefined;
  int(name: string, fallback?: number): number | undefined {
    const attribute = this.get(name, AttributeType.INT);
    return attribute ? int64ToNumber(attribute.i) : fallback;
  }

  float(name: string, fallback: number): number;
  float(name: string): number | undefined;
  float(name: string, fallback?: number): number | undefined {
    const attribute = this.get(name, AttributeType.FLOAT);
    return attribute ? (attribute.f ?? 0) : fallback;
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const attribute = this.get(name, AttributeType.STRING);
    return attribute ? new TextDecoder().decode(attribute.s ?? new Uint8Array()) : fallback;
  }

  ints(name: string): number[] | undefined {
    const attribute = this.get(name, AttributeType.INTS);
    return attribute ? (attribute.ints ?? []).map(int64ToNumber) : undefined;
  }

  floats(name: string): number[] | undefined {
    const attribute = this.get(name, AttributeType.FLOATS);
    return attribute ? [...(attribute.floats ?? [])] : undefined;
  }

  tensor(name: string): OnnxTensorValue | undefined {
    const attribute = this.get(name, AttributeType.TENSOR);
    if (!attribute?.t) return undefined;
    try {
      return decodeTensorProto(attribute.t);
    } catch (error) {
      throw new NodeError(this.node, this.op, `attribute '${name}': ${(error as Error).message}`);
    }
  }

  private get(name: string, type: number): AttributeProto | undefined {
    const attribute = this.byName.get(name);
    if (!attribute) return undefined;
    // Old exporters leave `type` unset; accept those when the expected field is present.
    if (attribute.type && attribute.type !== type) {
      throw new NodeError(this.node, this.op, `attribute '${name}' has type ${AttributeType[attribute.type] ?? attribute.type}, expected ${AttributeType[type]}`);
    }
    return attribute;
  }
}
