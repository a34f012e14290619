/**
 * Stage 6b, after a mismatch: builds and runs the tap firmwares diverge.ts asks for, on the same board and with the
 * same inputs, and leaves a board that keeps its flash running the deployed firmware again.
 */
import type { TensorData } from '../ir/types.js';
import { BuildError } from '../build/firmware.js';
import type { Board } from './board.js';
import { buildModelFirmware, type BuiltFirmware } from './build.js';
import { compileModel } from './compile.js';
import { expectedFirmware } from './connect.js';
import { findFirstDivergingLayer, TapBatchTooLarge, type DivergenceDiagnosis } from './diverge.js';
import type { DeployEvent } from './events.js';
import { planFit } from './fit.js';
import type { Deployment } from './index.js';
import { measureOnDevice, runTimeoutMs } from './measure.js';

/** RAM left for tapped tensors: what the deployed firmware leaves free, less a margin for the harness's growth. */
const TAP_RAM_MARGIN = 1024;

export async function diagnoseDivergence(
  deployment: Deployment,
  board: Board,
  inputs: TensorData[],
  reference: Map<string, TensorData>,
  emit: (event: DeployEvent) => void,
): Promise<DivergenceDiagnosis> {
  const { model, target, build } = deployment;
  const budgetBytes = Math.max(1, build.sizes.ramSize - build.sizes.ramUsed - TAP_RAM_MARGIN);
  const diagnosis = await findFirstDivergingLayer({
    graph: model.generated,
    reference,
    budgetBytes,
    onBatch: ({ count, bytes }) =>
      emit({ type: 'diagnose', message: `rebuilding the firmware with ${count} intermediate tensor${count === 1 ? '' : 's'} (${bytes} bytes) as outputs` }),
    run: async (tapped) => {
      const compiled = compileModel(tapped, model.sha256, target, deployment.patchLibrary);
      if (!planFit(target, compiled).fits) throw new TapBatchTooLarge();
      let exact = true;
      let tapBuild: BuiltFirmware;
      try {
        tapBuild = await buildModelFirmware(compiled, target, {
          onProgress: (event) => {
            if (event.stage === 'check') exact = event.estimate.flashNeeded <= event.estimate.flashAvailable && event.estimate.ramNeeded <= event.estimate.ramAvailable;
          },
        });
      } catch (error) {
        if (error instanceof BuildError && !exact) throw new TapBatchTooLarge();
        throw error;
      }
      try {
        const device = await board.load(tapBuild, expectedFirmware(target, tapped, model.sha256, compiled));
        const timeout = runTimeoutMs(model.generatedCost.macs, tapped.nodes.length, 0, target.emulated, target.clockHz);
        const dtypes = tapped.outputs.map((io) => tapped.tensors.get(io.tensor)!.dtype);
        return (await measureOnDevice(device, inputs, dtypes, { runs: 1, warmups: 0, runTimeoutMs: timeout })).outputs;
      } finally {
        await tapBuild.dispose();
      }
    },
  });
  // A real board keeps what was flashed last: leave it running the firmware that was deployed, not a tap build.
  if (board.persistent) await board.load(build, expectedFirmware(target, model.generated, model.sha256, deployment.compiled));
  return diagnosis;
}
