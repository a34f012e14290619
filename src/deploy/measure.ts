/**
 * Stage 5: on the running firmware, upload the inputs, run with warm-ups, and read back the outputs and the
 * per-layer times. The device's bytes are the IR tensors of the graph's outputs.
 */
import type { RunResult } from '../agent/device-link.js';
import { DeviceError } from '../agent/errors.js';
import type { DataType, TensorData } from '../ir/types.js';
import type { ConnectedDevice } from './connect.js';
import { typedFromBytes } from '../ir/graph.js';

export interface MeasureOptions {
  runs: number;
  warmups: number;
  /** How long RUN may take between two frames of its reply (warm-ups plus one run before the first). */
  runTimeoutMs: number;
}

export interface Measurement {
  timing: RunResult;
  /** In graph.outputs order, in each output tensor's IR dtype. */
  outputs: TensorData[];
}

export async function measureOnDevice(
  device: ConnectedDevice,
  inputs: readonly TensorData[],
  outputDtypes: readonly DataType[],
  options: MeasureOptions,
): Promise<Measurement> {
  const { link } = device;
  for (const [index, data] of inputs.entries()) {
    await link.setInput(index, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  const timing = await link.run({ runs: options.runs, warmups: options.warmups, timeoutMs: options.runTimeoutMs });
  if (timing.unit === 'none') throw new DeviceError(device.port, 'the firmware has no timer: nothing can be measured');
  const outputs: TensorData[] = [];
  for (const [index, dtype] of outputDtypes.entries()) outputs.push(typedFromBytes(dtype, await link.getOutput(index)));
  return { timing, outputs };
}

/**
 * An upper bound of one inference's wall time, for RUN's time-out: 64 instructions per MAC is slower than any
 * plain-C kernel we generate; an emulator runs well over 5e7 instructions a second even on a loaded machine, a
 * board at least one instruction every two cycles.
 */
export function runTimeoutMs(macs: number, layerCount: number, warmups: number, emulated: boolean, clockHz: number): number {
  const instructions = macs * 64 + layerCount * 100_000 + 1_000_000;
  const perSecond = emulated ? 5e7 : clockHz / 2;
  return Math.max(5000, Math.ceil(((warmups + 1) * instructions * 1000) / perSecond));
}

