/**
 * Stage 7: everything measured, as the report stage's input (src/report DeployResult): the model's identity and
 * MACs, the target, the firmware's sizes, the timings, and each output as the device and the reference computed it
 * (in the output's external dtype, what the user gets).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { RunResult } from '../agent/device-link.js';
import type { Hello } from '../agent/protocol.js';
import type { FirmwareSizes } from '../build/firmware.js';
import type { TensorData } from '../ir/types.js';
import { outputFromIR } from '../io/tensors.js';
import type { DeployResult, LatencyUnit } from '../report/index.js';
import type { Target } from '../targets/index.js';
import type { CompiledModel } from './compile.js';
import type { DeployModel } from './model.js';

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VERSION = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export interface Measured {
  model: DeployModel;
  compiled: CompiledModel;
  target: Target;
  sizes: FirmwareSizes;
  hello: Hello;
  timing: RunResult;
  warmups: number;
  /** IR tensors, graph.outputs order. */
  deviceOutputs: TensorData[];
  referenceOutputs: TensorData[];
  firstDivergingLayer?: string;
}

export function deployResult(measured: Measured, tool: DeployResult['tool']): DeployResult {
  const { model, compiled, target, sizes, hello, timing } = measured;
  const graph = model.graph;
  return {
    model: { path: model.file, sha256: model.sha256, name: graph.name, macs: model.cost.macs, paramBytes: model.cost.paramBytes },
    target: { name: target.name, core: target.core, clockHz: target.clockHz, emulated: target.emulated, deviceClockHz: hello.clockHz },
    memory: {
      text: sizes.text,
      data: sizes.data,
      bss: sizes.bss,
      flashUsed: sizes.flashUsed,
      flashSize: sizes.flashSize,
      ramUsed: sizes.ramUsed,
      ramSize: sizes.ramSize,
      stackBytes: sizes.stackBytes,
      arenaBytes: compiled.library.plan.arenaBytes,
      weightsBytes: compiled.library.constantBytes,
    },
    // The layers the device ran (the generated graph); the model's own MACs stay in `model`.
    layers: model.generatedCost.layers.map((layer) => ({ name: layer.name, op: layer.op, macs: layer.macs })),
    timing: { unit: timing.unit as LatencyUnit, warmups: measured.warmups, runs: timing.runs },
    outputs: graph.outputs.map((io, i) => {
      const device = outputFromIR(graph, io, measured.deviceOutputs[i]!);
      const reference = outputFromIR(graph, io, measured.referenceOutputs[i]!);
      return { name: io.name, dtype: device.dtype, shape: device.shape, device: device.data, reference: reference.data };
    }),
    ...(measured.firstDivergingLayer !== undefined ? { firstDivergingLayer: measured.firstDivergingLayer } : {}),
    tool,
  };
}

let commit: Promise<string | undefined> | undefined;

/** tinyedge's version, the commit it was built from when it runs from a git checkout, and now. */
export async function toolInfo(): Promise<DeployResult['tool']> {
  commit ??= execa('git', ['rev-parse', '--short', 'HEAD'], { cwd: PACKAGE_ROOT, reject: false, stdin: 'ignore' }).then((r) =>
    r.exitCode === 0 && /^[0-9a-f]{4,40}$/.test(String(r.stdout).trim()) ? String(r.stdout).trim() : undefined,
  );
  const hash = await commit;
  return { version: VERSION, ...(hash ? { commit: hash } : {}), date: new Date().toISOString() };
}
