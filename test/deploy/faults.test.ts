/**
 * What a deploy does when things go wrong, on the real path (generated firmware, virtual STM32F405, ROM
 * bootloader, pty): a kernel that computes the wrong thing (the first diverging layer is found with a tap
 * firmware), a firmware that crashes, a board running another model, a board unplugged or gone silent mid-run, a
 * busy port. Faults are injected where a real one would come from: into the generated C (patchLibrary), or into the
 * board (closed, reset). Every failure is a typed device error; nothing is returned as a result.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DeviceClosedError, DeviceError, DeviceFaultError, DeviceTimeoutError } from '../../src/agent/errors.js';
import { FlashError } from '../../src/agent/flash/index.js';
import { serveVirtualBoard } from '../../src/board/virtual-stm32.js';
import { ExitCode } from '../../src/errors.js';
import { openBoard, prepareDeployment, runDeployment, validationFailure, type DeployEvent, type Deployment } from '../../src/deploy/index.js';
import type { LibraryPatch } from '../../src/deploy/compile.js';
import { sharedModel, SHARED_PRESENT } from './support/shared.js';

const KWS = 'mlperf-tiny/kws_ref_model.tflite';

/**
 * Adds C right after layer `index`'s call in the generated run(), whatever kernel family the target gets (portable or
 * DSP); `statement` receives the layer's output pointer (the call's second argument).
 */
function afterLayer(index: number, statement: (output: string) => string): LibraryPatch {
  return (files) => {
    const [name, source] = [...files.entries()].find(([file]) => /^tinyedge_[a-z0-9_]+\.c$/.test(file) && !file.endsWith('_weights.c'))!;
    const call = new RegExp(`^( *)te_\\w+_l${index}\\(([^;]*)\\);$`, 'm').exec(source);
    if (!call) throw new Error(`no call of layer ${index}'s kernel in ${name}`);
    const output = call[2]!.split(',')[1]!.trim();
    files.set(name, source.replace(call[0], `${call[0]}\n${call[1]}${statement(output)}`));
    return files;
  };
}

/** Layer `index` computes wrong values: the first `bytes` bytes of its output are flipped. */
const corruptLayerOutput = (index: number, bytes: number) =>
  afterLayer(
    index,
    (output) => `{ int8_t *te_fault = (int8_t *)(${output}); uint32_t te_i; for (te_i = 0; te_i < ${bytes}u; te_i++) te_fault[te_i] = (int8_t)(te_fault[te_i] ^ 0x55); }`,
  );

describe.skipIf(!SHARED_PRESENT)('a kernel that computes the wrong thing', () => {
  test('KWS with a pointwise conv (layer 4) that writes wrong values: validation fails and the tap firmware names layer 4', async () => {
    const events: DeployEvent[] = [];
    const deployment = await prepareDeployment({ model: sharedModel(KWS), patchLibrary: corruptLayerOutput(4, 25 * 5 * 64) });
    try {
      const board = await openBoard(deployment.target);
      try {
        const outcome = await runDeployment(deployment, board, { runs: 1, warmups: 0, onEvent: (e) => events.push(e) });
        expect(outcome.validation.bitExact).toBe(false);
        expect(outcome.report.validation.bitExact).toBe(false);
        expect(outcome.report.validation.mismatches).toBeGreaterThan(0);
        const layer4 = deployment.model.graph.nodes[4]!;
        expect(outcome.diagnosis?.layer).toMatchObject({ index: 4, op: 'Conv2D', name: layer4.name, tensor: layer4.outputs[0] });
        expect(outcome.diagnosis!.layer!.mismatches).toBeGreaterThan(0);
        expect(outcome.report.validation.firstDivergingLayer).toBe(layer4.name);
        // KWS's intermediates fit beside the firmware in one tap build.
        expect(outcome.diagnosis!.tapBuilds).toBe(1);
        expect(events.filter((e) => e.type === 'diagnose')).toHaveLength(1);
        // What `tinyedge deploy` ends with (exit 5, after the report).
        const failure = validationFailure('kws.tflite', outcome);
        expect(failure.exitCode).toBe(ExitCode.validation);
        expect(failure.message).toMatch(
          new RegExp(`^kws\\.tflite: on qemu-stm32f405 \\d+ of 12 output values differ from the reference \\(max \\|difference\\| \\d+\\); first diverging layer: 4 Conv2D '`),
        );
      } finally {
        await board.close();
      }
    } finally {
      await deployment.dispose();
    }
  });

  test('hello_world with a wrong last layer: every intermediate matches, the layer writing the output is named', async () => {
    const deployment = await prepareDeployment({ model: sharedModel('tflm/hello_world_int8.tflite'), patchLibrary: corruptLayerOutput(2, 1) });
    try {
      const board = await openBoard(deployment.target);
      try {
        const outcome = await runDeployment(deployment, board, { runs: 1, warmups: 0 });
        expect(outcome.validation.bitExact).toBe(false);
        expect(outcome.diagnosis?.layer).toMatchObject({ index: 2, name: deployment.model.graph.nodes[2]!.name });
        expect(outcome.diagnosis?.note).toMatch(/every intermediate matches/);
      } finally {
        await board.close();
      }
    } finally {
      await deployment.dispose();
    }
  });
});

describe.skipIf(!SHARED_PRESENT)('a firmware that is not what we built, or crashes', () => {
  test('a kernel that traps: the hard-fault report comes over the UART as a device error', async () => {
    const deployment = await prepareDeployment({ model: sharedModel(KWS), patchLibrary: afterLayer(2, () => '__builtin_trap();') });
    try {
      const board = await openBoard(deployment.target);
      try {
        const run = runDeployment(deployment, board, { runs: 1, warmups: 0 });
        await expect(run).rejects.toBeInstanceOf(DeviceFaultError);
        await expect(run).rejects.toThrow(/the firmware faulted \(exception 3\) at PC=0x0800[0-9a-f]{4}/);
      } finally {
        await board.close();
      }
    } finally {
      await deployment.dispose();
    }
  });

  test('a firmware carrying another model hash: refused at HELLO, before anything is measured', async () => {
    const events: DeployEvent[] = [];
    const deployment = await prepareDeployment({
      model: sharedModel(KWS),
      patchLibrary: (files) => new Map([...files].map(([name, text]) => [name, text.replaceAll('"aeea436800704fce"', '"0123456789abcdef"')])),
    });
    try {
      const board = await openBoard(deployment.target);
      try {
        const run = runDeployment(deployment, board, { onEvent: (e) => events.push(e) });
        await expect(run).rejects.toThrow(
          /: the board runs model 'kws_ref_model' \(hash 0123456789abcdef\), not 'kws_ref_model' \(hash aeea436800704fce\): refusing to measure the wrong model$/,
        );
        await expect(run).rejects.toMatchObject({ exitCode: ExitCode.device });
        expect(events.some((e) => e.type === 'measuring')).toBe(false);
      } finally {
        await board.close();
      }
    } finally {
      await deployment.dispose();
    }
  });
});

describe.skipIf(!SHARED_PRESENT)('a board served on a port (`board serve`), unplugged, silent or busy', () => {
  let deployment: Deployment;
  let workDir: string;
  let serial = 0;
  /** A fresh virtual board on its own link, like `tinyedge board serve --link PATH`. */
  const serve = async () => serveVirtualBoard({ target: 'qemu-stm32f405', link: path.join(workDir, `tty${serial++}`) });

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'tinyedge-deploy-faults-'));
    deployment = await prepareDeployment({ model: sharedModel(KWS) });
  });
  afterAll(async () => {
    await deployment?.dispose();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  /** Starts a long RUN (about 200 inferences) and calls `fault` once the device is busy with it. */
  async function faultMidRun(fault: (board: Awaited<ReturnType<typeof serve>>) => Promise<void>, runTimeoutMs?: number) {
    const virtual = await serve();
    const board = await openBoard(deployment.target, { port: virtual.link });
    try {
      const events: DeployEvent[] = [];
      let injected: Promise<void> | undefined;
      const run = runDeployment(deployment, board, {
        runs: 200,
        warmups: 0,
        ...(runTimeoutMs ? { runTimeoutMs } : {}),
        onEvent: (event) => {
          events.push(event);
          if (event.type === 'measuring') injected = new Promise((resolve) => setTimeout(resolve, 500)).then(() => fault(virtual));
        },
      });
      const outcome = await run.then(
        () => undefined,
        (error: unknown) => error,
      );
      await injected;
      expect(events.some((e) => e.type === 'measured' || e.type === 'validated')).toBe(false);
      return outcome;
    } finally {
      await board.close();
      await virtual.close();
    }
  }

  test('the deploy flashes and measures through a served board on --port', async () => {
    const virtual = await serve();
    const board = await openBoard(deployment.target, { port: virtual.link });
    try {
      expect(board.description).toBe(`virtual qemu-stm32f405 on ${virtual.link} (flashed with uart-bootloader)`);
      const outcome = await runDeployment(deployment, board, { runs: 1, warmups: 0 });
      expect(outcome.report.validation.bitExact).toBe(true);
      expect(outcome.flash).toMatchObject({ method: 'uart-bootloader', via: virtual.link, verified: true });
    } finally {
      await board.close();
      await virtual.close();
    }
  });

  test('unplugged mid-run: a device error naming the port, no result', async () => {
    const error = await faultMidRun((virtual) => virtual.close());
    expect(error).toBeInstanceOf(DeviceError);
    expect(error).toBeInstanceOf(DeviceClosedError);
    expect((error as DeviceError).exitCode).toBe(ExitCode.device);
    expect((error as Error).message).toMatch(/tty\d+: /);
  });

  test('silent mid-run (the firmware stopped): a time-out after the retries, no result', async () => {
    const error = await faultMidRun((virtual) => virtual.reset(), 1000);
    expect(error).toBeInstanceOf(DeviceTimeoutError);
    expect((error as Error).message).toMatch(/RUN failed after 3 attempts: no reply within 1000 ms/);
  });

  test('a port another program holds: the flash fails at once, naming the port', async () => {
    const virtual = await serve();
    const holder = new SerialPort({ path: virtual.link, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => holder.open((e) => (e ? reject(e) : resolve())));
    const board = await openBoard(deployment.target, { port: virtual.link });
    try {
      const run = runDeployment(deployment, board);
      await expect(run).rejects.toBeInstanceOf(FlashError);
      await expect(run).rejects.toThrow(new RegExp(`cannot open ${virtual.link.replace(/[/.]/g, '\\$&')}: .*lock`, 'i'));
    } finally {
      await board.close();
      await new Promise<void>((resolve) => holder.close(() => resolve()));
      await virtual.close();
    }
  });
});
