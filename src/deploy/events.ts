/** What a deploy (or a build) tells its caller as it goes: one event per step, for a progress display. */
import type { Hello } from '../agent/protocol.js';
import type { FirmwareProgress, FirmwareSizes } from '../build/firmware.js';
import type { Target } from '../targets/index.js';
import type { BoardEvent } from './board.js';

export type DeployEvent =
  | { type: 'model'; file: string; name: string; layers: number; macs: number; sha256: string }
  | { type: 'target'; target: Target; how: 'named' | 'default' | 'detected'; port?: string }
  | { type: 'compiled'; prefix: string; layers: number; arenaBytes: number; weightsBytes: number; ms: number }
  | { type: 'fallback'; target: Target; reason: string }
  | { type: 'build'; target: string; progress: FirmwareProgress }
  | { type: 'built'; target: Target; sizes: FirmwareSizes; dir: string; kept: boolean; ms: number }
  | BoardEvent
  | { type: 'connected'; hello: Hello }
  | { type: 'measuring'; runs: number; warmups: number; inputs: 'files' | 'random' | 'given' }
  | { type: 'measured'; unit: string; totals: number[]; ms: number }
  | { type: 'validated'; bitExact: boolean; compared: number; mismatches: number; maxAbsDiff: number }
  | { type: 'diagnose'; message: string }
  | { type: 'diagnosed'; layer?: { index: number; name: string; op: string }; note: string };
