/**
 * A generated library on an emulated board the way users run it: the real firmware (src/build/firmware.ts) booted
 * in QEMU with -icount shift=0 (src/agent/qemu.ts) and driven over its console protocol (src/agent/device-link.ts).
 * Returns each record's outputs and the instruction counts (TIM2 on qemu-stm32f405: exact) of the first record's run.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { DeviceLink } from '../../../src/agent/device-link.js';
import { startQemu } from '../../../src/agent/qemu.js';
import { buildFirmware, type FirmwareSizes } from '../../../src/build/firmware.js';
import type { GeneratedLibrary } from '../../../src/codegen/index.js';
import { dtypeBytes, elementCount, tensorOf } from '../../../src/ir/graph.js';
import type { Graph, TensorData } from '../../../src/ir/types.js';
import { loadTarget } from '../../../src/targets/index.js';

export interface BoardRun {
  /** Per record, the outputs as raw int8 bytes (graph.outputs order). */
  outputs: Int8Array[][];
  /** Instructions of the whole inference and of each layer, first record. */
  total: number;
  layers: number[];
  sizes: FirmwareSizes;
  /** .text of the model library's own object (the kernels and run(), no weights, no harness). */
  modelCodeBytes: number;
}

export async function runOnBoard(graph: Graph, library: Pick<GeneratedLibrary, 'prefix' | 'files'>, records: TensorData[][], targetName = 'qemu-stm32f405'): Promise<BoardRun> {
  const target = loadTarget(targetName);
  const dir = await mkdtemp(path.join(tmpdir(), 'tinyedge-board-'));
  try {
    const libraryDir = path.join(dir, 'library');
    await mkdir(libraryDir);
    for (const [name, content] of library.files) await writeFile(path.join(libraryDir, name), content);
    const bytes = (tensor: string) => elementCount(tensorOf(graph, tensor).shape) * dtypeBytes(tensorOf(graph, tensor).dtype);
    const build = await buildFirmware({
      target,
      libraryDir,
      outDir: path.join(dir, 'firmware'),
      model: { prefix: library.prefix, inputBytes: graph.inputs.map((io) => bytes(io.tensor)), outputBytes: graph.outputs.map((io) => bytes(io.tensor)), layerCount: graph.nodes.length },
    });
    const modelObject = path.join(build.dir, 'build', 'model', `tinyedge_${library.prefix}.o`);
    const size = await execa('arm-none-eabi-size', [modelObject]);
    const modelCodeBytes = Number(size.stdout.split('\n')[1]!.trim().split(/\s+/)[0]);
    const board = await startQemu({ target, elf: build.elf });
    const link = new DeviceLink(board.stream, { port: board.port, timeoutMs: 20_000 });
    try {
      await link.connect(5000);
      const outputs: Int8Array[][] = [];
      let first: { total: number; layers: number[] } | undefined;
      for (const record of records) {
        for (let i = 0; i < record.length; i++) {
          const data = record[i]!;
          await link.setInput(i, new Int8Array(data.buffer, data.byteOffset, data.byteLength));
        }
        const result = await link.run({ runs: 1, timeoutMs: 120_000 });
        first ??= result.runs[0]!;
        const recordOutputs: Int8Array[] = [];
        for (let o = 0; o < graph.outputs.length; o++) recordOutputs.push(await link.getOutput(o));
        outputs.push(recordOutputs);
      }
      return { outputs, total: first!.total, layers: first!.layers, sizes: build.sizes, modelCodeBytes };
    } finally {
      await link.close();
      await board.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
