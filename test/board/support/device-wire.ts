import { Duplex } from 'node:stream';
import { An3155Device, stm32f405Rom, type DeviceEvent, type RomIdentity } from '../../../src/board/an3155-device.js';
import { Stm32Memory } from '../../../src/board/stm32-memory.js';
import { chipByProductId } from '../../../src/agent/bootloader/chips.js';

/**
 * A Duplex whose far end is the AN3155 device model, with faults a real part cannot be made to produce on demand:
 * a NACK on chosen Write Memory commands, bytes lost on the way in, a device gone silent. Only for fault tests;
 * the protocol itself is tested against the real pty board and stm32flash.
 */
export interface Faults {
  /** Answer NACK instead of the final ACK of these Write Memory commands (1-based count). */
  nackWrites?: number[];
  /** Lose these host->device bytes (0-based index over every byte the host sent). */
  dropHostBytes?: number[];
  /** From this host byte index on, the device hears nothing and says nothing. */
  silentFrom?: number;
}

export class DeviceWire extends Duplex {
  readonly device: An3155Device;
  readonly memory: Stm32Memory;
  readonly events: DeviceEvent[] = [];
  hostBytes = 0;
  writes = 0;
  nacksInjected = 0;
  private writeAckNext = false;

  constructor(
    private readonly faults: Faults = {},
    rom: RomIdentity = stm32f405Rom,
    flashSize?: number,
  ) {
    super();
    const chip = chipByProductId(rom.productId);
    if (!chip) throw new Error(`no chip 0x${rom.productId.toString(16)}`);
    this.memory = new Stm32Memory(chip, flashSize, { start: 0x2000_0000, size: 128 * 1024, reservedBytes: 0x3000 });
    this.device = new An3155Device(
      this.memory,
      rom,
      (bytes) => this.reply(bytes),
      (event) => {
        this.events.push(event);
        if (event.type === 'command' && event.command === 'Write Memory') this.writeAckNext = true;
      },
    );
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    for (const byte of chunk) {
      const index = this.hostBytes++;
      if (this.silent()) continue;
      if (this.faults.dropHostBytes?.includes(index)) continue;
      this.device.feed(Uint8Array.of(byte));
    }
    callback();
  }

  private silent(): boolean {
    return this.faults.silentFrom !== undefined && this.hostBytes > this.faults.silentFrom;
  }

  private reply(bytes: Uint8Array): void {
    const out = Buffer.from(bytes);
    if (this.writeAckNext) {
      this.writeAckNext = false;
      this.writes++;
      if (this.faults.nackWrites?.includes(this.writes)) {
        this.nacksInjected++;
        out[0] = 0x1f;
      }
    }
    // One byte per chunk: a serial line may deliver a reply in any fragments.
    setImmediate(() => {
      for (const byte of out) this.push(Buffer.of(byte));
    });
  }
}
