/**
 * What the flasher must know about each STM32 it may meet: the product id its ROM bootloader reports (Get ID),
 * and how its flash is cut into erasable sectors/pages, numbered as the bootloader's Erase commands number them.
 * Sources: AN2606 (product ids) and each family's reference manual (sector maps).
 */

const KiB = 1024;

/** `count` consecutive sectors of `size` bytes. A layout is a list of runs from the flash origin. */
export interface SectorRun {
  count: number;
  size: number;
}

export interface Stm32Chip {
  productId: number;
  /** Part-number prefixes that carry this die, e.g. STM32F405 and STM32F407 share 0x413. */
  parts: string[];
  flashOrigin: number;
  /** Sector map of the largest flash of the line; smaller parts use a prefix of it. */
  sectors: SectorRun[];
  /** Write Memory blocks must be a multiple of this (4 on most parts; 32 = one 256-bit flash word on STM32H7). */
  writeAlign: number;
  /** Which erase command the ROM offers; the client still trusts what Get reports. */
  erase: 'extended' | 'legacy';
  /** openocd's target script for this family (interface/stlink.cfg is assumed). */
  openocdTarget: string;
}

const f4Sectors = (bigSectors: number): SectorRun[] => [
  { count: 4, size: 16 * KiB },
  { count: 1, size: 64 * KiB },
  { count: bigSectors, size: 128 * KiB },
];

export const stm32Chips: readonly Stm32Chip[] = [
  {
    productId: 0x413,
    parts: ['STM32F405', 'STM32F407', 'STM32F415', 'STM32F417'],
    flashOrigin: 0x0800_0000,
    sectors: f4Sectors(7),
    writeAlign: 4,
    erase: 'extended',
    openocdTarget: 'stm32f4x.cfg',
  },
  {
    productId: 0x419,
    parts: ['STM32F427', 'STM32F429', 'STM32F437', 'STM32F439'],
    flashOrigin: 0x0800_0000,
    // Two banks of the F405 map; bank 2 sectors are numbered 12..23.
    sectors: [...f4Sectors(7), ...f4Sectors(7)],
    writeAlign: 4,
    erase: 'extended',
    openocdTarget: 'stm32f4x.cfg',
  },
  {
    productId: 0x421,
    parts: ['STM32F446'],
    flashOrigin: 0x0800_0000,
    sectors: f4Sectors(3),
    writeAlign: 4,
    erase: 'extended',
    openocdTarget: 'stm32f4x.cfg',
  },
  {
    productId: 0x431,
    parts: ['STM32F411'],
    flashOrigin: 0x0800_0000,
    sectors: f4Sectors(3),
    writeAlign: 4,
    erase: 'extended',
    openocdTarget: 'stm32f4x.cfg',
  },
  {
    productId: 0x449,
    parts: ['STM32F745', 'STM32F746', 'STM32F756'],
    flashOrigin: 0x0800_0000,
    sectors: [
      { count: 4, size: 32 * KiB },
      { count: 1, size: 128 * KiB },
      { count: 3, size: 256 * KiB },
    ],
    writeAlign: 4,
    erase: 'extended',
    openocdTarget: 'stm32f7x.cfg',
  },
  {
    productId: 0x451,
    parts: ['STM32F765', 'STM32F767', 'STM32F769', 'STM32F777', 'STM32F779'],
    flashOrigin: 0x0800_0000,
    // Single-bank mode (nDBANK = 1, the factory setting).
    sectors: [
      { count: 4, size: 32 * KiB },
      { count: 1, size: 128 * KiB },
      { count: 7, size: 256 * KiB },
    ],
    writeAlign: 4,
    erase: 'extended',
    openocdTarget: 'stm32f7x.cfg',
  },
  {
    productId: 0x450,
    parts: ['STM32H742', 'STM32H743', 'STM32H750', 'STM32H753'],
    flashOrigin: 0x0800_0000,
    // Two banks of 8 x 128 KB; the bootloader numbers bank 2 sectors 8..15.
    sectors: [{ count: 16, size: 128 * KiB }],
    writeAlign: 32,
    erase: 'extended',
    openocdTarget: 'stm32h7x.cfg',
  },
  {
    productId: 0x470,
    parts: ['STM32L4R5', 'STM32L4R7', 'STM32L4R9', 'STM32L4S5', 'STM32L4S7', 'STM32L4S9'],
    flashOrigin: 0x0800_0000,
    // Dual-bank mode (DBANK = 1, the factory setting): 4 KB pages, bank 2 pages numbered 256..511.
    sectors: [{ count: 512, size: 4 * KiB }],
    writeAlign: 8,
    erase: 'extended',
    openocdTarget: 'stm32l4x.cfg',
  },
  {
    productId: 0x415,
    parts: ['STM32L475', 'STM32L476', 'STM32L486', 'STM32L471'],
    flashOrigin: 0x0800_0000,
    sectors: [{ count: 512, size: 2 * KiB }],
    writeAlign: 8,
    erase: 'extended',
    openocdTarget: 'stm32l4x.cfg',
  },
  {
    productId: 0x460,
    parts: ['STM32G071', 'STM32G081', 'STM32G070'],
    flashOrigin: 0x0800_0000,
    sectors: [{ count: 64, size: 2 * KiB }],
    writeAlign: 8,
    erase: 'extended',
    openocdTarget: 'stm32g0x.cfg',
  },
  {
    productId: 0x410,
    parts: ['STM32F101', 'STM32F102', 'STM32F103'],
    flashOrigin: 0x0800_0000,
    // Medium density (up to 128 KB, 1 KB pages); its v2.2 ROM only has the legacy one-byte Erase.
    sectors: [{ count: 128, size: 1 * KiB }],
    writeAlign: 4,
    erase: 'legacy',
    openocdTarget: 'stm32f1x.cfg',
  },
];

export function chipByProductId(productId: number): Stm32Chip | undefined {
  return stm32Chips.find((chip) => chip.productId === productId);
}

/** The chip entry for a part number such as "STM32F405RG" (case and suffix ignored). */
export function chipByPart(part: string): Stm32Chip | undefined {
  const upper = part.toUpperCase();
  return stm32Chips.find((chip) => chip.parts.some((prefix) => upper.startsWith(prefix)));
}

/** "0x413 (STM32F405/F407/F415/F417)" — how errors name a product id. */
export function describeProductId(productId: number): string {
  const chip = chipByProductId(productId);
  const id = `0x${productId.toString(16).padStart(3, '0')}`;
  if (!chip) return `${id} (unknown part)`;
  const [first, ...rest] = chip.parts;
  return `${id} (${[first, ...rest.map((p) => p.replace(/^STM32/, ''))].join('/')})`;
}

export interface Sector {
  index: number;
  address: number;
  size: number;
}

/** Every sector of the chip's map, cut at `flashSize` bytes when the part has less flash than the line's largest. */
export function sectorMap(chip: Stm32Chip, flashSize?: number): Sector[] {
  const sectors: Sector[] = [];
  let address = chip.flashOrigin;
  const end = flashSize === undefined ? Infinity : chip.flashOrigin + flashSize;
  for (const run of chip.sectors) {
    for (let i = 0; i < run.count && address < end; i++) {
      sectors.push({ index: sectors.length, address, size: run.size });
      address += run.size;
    }
  }
  return sectors;
}

export function flashBytes(chip: Stm32Chip, flashSize?: number): number {
  return sectorMap(chip, flashSize).reduce((sum, sector) => sum + sector.size, 0);
}

/**
 * The sectors that [start, start + length) touches: the only ones to erase before writing an image there.
 * Returns undefined when the range leaves the flash.
 */
export function sectorsCovering(chip: Stm32Chip, start: number, length: number, flashSize?: number): Sector[] | undefined {
  const map = sectorMap(chip, flashSize);
  const end = start + length;
  const flashEnd = map.length ? map[map.length - 1].address + map[map.length - 1].size : chip.flashOrigin;
  if (start < chip.flashOrigin || end > flashEnd || length <= 0) return undefined;
  return map.filter((sector) => sector.address < end && sector.address + sector.size > start);
}
