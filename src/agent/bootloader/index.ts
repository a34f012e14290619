/** The STM32 ROM bootloader over a UART (AN3155): the client, its chip table and its errors. */
export { Stm32UartBootloader, type BootloaderOptions, type DeviceInfo, type FlashPhase, type FlashProgress, type ProgramOptions } from './stm32-uart-bootloader.js';
export { BootloaderError } from './errors.js';
export { chipByPart, chipByProductId, describeProductId, sectorMap, sectorsCovering, stm32Chips, type Stm32Chip } from './chips.js';
export { resetIntoApplication, resetIntoBootloader, type BootPins } from './boot-pins.js';
