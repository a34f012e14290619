import { flashBytes, sectorMap, type Sector, type Stm32Chip } from '../agent/bootloader/chips.js';

export interface RamArea {
  start: number;
  size: number;
  /** The ROM bootloader keeps its own variables at the bottom of SRAM and refuses writes there. */
  reservedBytes: number;
}

/**
 * The memory a ROM bootloader can reach on an STM32: flash (erase sets 0xFF by sector; programming can only clear
 * bits, as real NOR flash does, so a missing erase shows up as a wrong read-back) and SRAM.
 */
export class Stm32Memory {
  readonly flashOrigin: number;
  readonly flash: Uint8Array;
  readonly ram: Uint8Array;
  private readonly sectors: Sector[];

  constructor(
    readonly chip: Stm32Chip,
    flashSize: number | undefined,
    readonly ramArea: RamArea,
  ) {
    this.flashOrigin = chip.flashOrigin;
    this.flash = new Uint8Array(flashBytes(chip, flashSize)).fill(0xff);
    this.sectors = sectorMap(chip, flashSize);
    this.ram = new Uint8Array(ramArea.size);
  }

  get sectorCount(): number {
    return this.sectors.length;
  }

  read(address: number, length: number): Uint8Array | undefined {
    const flashOffset = this.offsetIn(this.flashOrigin, this.flash.length, address, length);
    if (flashOffset !== undefined) return this.flash.slice(flashOffset, flashOffset + length);
    const ramOffset = this.offsetIn(this.ramArea.start, this.ram.length, address, length);
    if (ramOffset !== undefined) return this.ram.slice(ramOffset, ramOffset + length);
    return undefined;
  }

  /** False when the range is not writable memory (the ROM then NACKs). */
  write(address: number, data: Uint8Array): boolean {
    const flashOffset = this.offsetIn(this.flashOrigin, this.flash.length, address, data.length);
    if (flashOffset !== undefined) {
      for (let i = 0; i < data.length; i++) this.flash[flashOffset + i] &= data[i];
      return true;
    }
    const ramOffset = this.offsetIn(this.ramArea.start, this.ram.length, address, data.length);
    if (ramOffset !== undefined && ramOffset >= this.ramArea.reservedBytes) {
      this.ram.set(data, ramOffset);
      return true;
    }
    return false;
  }

  eraseSector(index: number): boolean {
    const sector = this.sectors[index];
    if (!sector) return false;
    const offset = sector.address - this.flashOrigin;
    this.flash.fill(0xff, offset, offset + sector.size);
    return true;
  }

  eraseAll(): void {
    this.flash.fill(0xff);
  }

  isFlashAddress(address: number): boolean {
    return address >= this.flashOrigin && address < this.flashOrigin + this.flash.length;
  }

  private offsetIn(start: number, size: number, address: number, length: number): number | undefined {
    const offset = address - start;
    return offset >= 0 && offset + length <= size ? offset : undefined;
  }
}
