import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { consoleKernelHz, DEFAULT_TARGET, listTargets, loadAllTargets, loadTarget, mainFlash, mainRam } from '../../src/targets/index.js';
import { parseTarget } from '../../src/targets/parse.js';

const REQUIRED = [
  'nucleo-f446re',
  'nucleo-l4r5zi',
  'nucleo-f767zi',
  'nucleo-h743zi2',
  'stm32f4-discovery',
  'nucleo-g071rb',
  'qemu-stm32f405',
  'qemu-cortex-m4',
  'qemu-cortex-m7',
  'qemu-cortex-m3',
];

describe('target descriptions', () => {
  it('lists every required board and loads each one', () => {
    expect(listTargets()).toEqual(expect.arrayContaining(REQUIRED));
    const targets = loadAllTargets();
    for (const target of targets) {
      expect(mainFlash(target).size).toBeGreaterThan(0);
      expect(mainRam(target).size).toBeGreaterThan(0);
    }
    expect(targets.filter((t) => t.emulated).map((t) => t.qemu!.machine).sort()).toEqual(
      ['mps2-an385', 'mps2-an386', 'mps2-an500', 'netduinoplus2'],
    );
  });

  it('describes the default virtual STM32F405 with the real chip memories', () => {
    const target = loadTarget(DEFAULT_TARGET);
    expect(target.qemu).toEqual({ machine: 'netduinoplus2' });
    expect(mainFlash(target)).toMatchObject({ origin: 0x0800_0000, size: 1024 * 1024 });
    expect(mainRam(target)).toMatchObject({ origin: 0x2000_0000, size: 128 * 1024 });
    expect(target.timer.fallback).toMatchObject({ kind: 'stm32-tim2', unit: 'instructions', base: 0x4000_0000 });
    expect(consoleKernelHz(target)).toBe(84_000_000);
  });

  it('gives the UART kernel clocks the clock settings imply', () => {
    expect(consoleKernelHz(loadTarget('nucleo-f446re'))).toBe(45_000_000);
    expect(consoleKernelHz(loadTarget('nucleo-h743zi2'))).toBe(100_000_000);
    expect(consoleKernelHz(loadTarget('nucleo-l4r5zi'))).toBe(120_000_000);
    expect(consoleKernelHz(loadTarget('qemu-cortex-m3'))).toBe(25_000_000);
  });

  it('rejects an unknown target listing the valid ones', () => {
    expect(() => loadTarget('nucleo-f999')).toThrow(UsageError);
    expect(() => loadTarget('nucleo-f999')).toThrow(/unknown target 'nucleo-f999'; known targets: .*nucleo-f446re.*qemu-stm32f405/);
  });

  it('rejects descriptions whose numbers contradict each other', () => {
    const base = JSON.parse(JSON.stringify(loadRaw('nucleo-f446re')));
    expect(() => parseTarget({ ...base, clockHz: 168_000_000 }, 'x.json')).toThrow(/x.json: clockHz: is 168000000 but the clock settings give 180000000/);
    expect(() => parseTarget({ ...base, fpu: 'fpv5-d16' }, 'x.json')).toThrow(/fpu: cortex-m4 has no fpv5-d16/);
    const overlapping = { ...base, memory: [...base.memory, { name: 'EXTRA', kind: 'ram', origin: '0x20010000', size: '4K' }] };
    expect(() => parseTarget(overlapping, 'x.json')).toThrow(/regions RAM and EXTRA overlap/);
    expect(() => parseTarget({ ...base, console: { ...base.console, base: 'USART2' } }, 'x.json')).toThrow(/console.base: expected a 32-bit address/);
    const g0 = loadRaw('nucleo-g071rb');
    expect(() => parseTarget({ ...g0, timer: { kind: 'dwt', unit: 'cycles' } }, 'g0.json')).toThrow(/Cortex-M0\+ has no DWT/);
  });
});

function loadRaw(name: string): any {
  return JSON.parse(readFileSync(loadTarget(name).file, 'utf8'));
}
