/**
 * Which target a command means: a built-in name or a description file, `stm32` for the connected ST board, or
 * nothing at all for the default virtual STM32F405 (which a too-large model may leave for a larger virtual target).
 */
import { DEFAULT_TARGET, loadTarget, type Target } from '../targets/index.js';
import { detectStm32Board, type DetectOptions } from './detect-stm32.js';

export interface TargetChoice {
  target: Target;
  /** 'default': no --target was given, so a model too large for it may move to a larger virtual target. */
  how: 'named' | 'default' | 'detected';
  /** The port a detected board was found on. */
  port?: string;
}

export async function chooseTarget(requested: string | undefined, detect: DetectOptions = {}): Promise<TargetChoice> {
  if (requested === undefined) return { target: loadTarget(DEFAULT_TARGET), how: 'default' };
  if (requested === 'stm32') {
    const found = await detectStm32Board(detect);
    return { target: found.target, how: 'detected', port: found.port };
  }
  return { target: loadTarget(requested), how: 'named' };
}
