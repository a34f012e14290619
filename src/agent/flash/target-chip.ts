import { chipByPart, chipByProductId, type Stm32Chip } from '../bootloader/chips.js';
import type { Target } from '../../targets/index.js';

/**
 * The STM32 on a target: by the product id its bootloader reports (targets/*.json flash.bootloaderProductId), else
 * by the part number named in its description ("... STM32F405 ...").
 */
export function stm32ChipOf(target: Target): Stm32Chip | undefined {
  if (target.flash.bootloaderProductId !== undefined) return chipByProductId(target.flash.bootloaderProductId);
  const part = /STM32[A-Z][0-9A-Z]+/i.exec(target.description)?.[0];
  return part ? chipByPart(part) : undefined;
}
