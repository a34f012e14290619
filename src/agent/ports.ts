import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { SerialPort } from 'serialport';

export type PortKind = 'st-link' | 'usb-uart' | 'other';

export interface PortInfo {
  /** What to pass as --port, e.g. /dev/ttyACM0. */
  path: string;
  /** The stable /dev/serial/by-id name, when udev made one. */
  byId?: string;
  /** USB vendor/product ids, 4 lower-case hex digits. */
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  product?: string;
  serialNumber?: string;
  kind: PortKind;
  /** One line for a listing: "ST-LINK virtual COM port (0483:374b)". */
  description: string;
}

/** USB vendors whose serial ports tell what is plugged in. */
const USB_UART_BRIDGES: Record<string, string> = {
  '10c4': 'Silicon Labs CP210x USB-UART bridge',
  '0403': 'FTDI USB-UART bridge',
  '1a86': 'WCH CH340 USB-UART bridge',
  '067b': 'Prolific PL2303 USB-UART bridge',
};
const ST_VENDOR = '0483';

export interface ListPortsOptions {
  /** Skip serialport's lister (it needs udevadm) and scan /dev and /sys directly. */
  scanOnly?: boolean;
  /** Roots of the scan, replaceable so the scan can be tested on a copy of a real tree. */
  devRoot?: string;
  sysRoot?: string;
}

/**
 * Serial ports a board may be on, ST-LINK virtual COM ports and USB-UART bridges marked. serialport's lister
 * needs udevadm, which containers and minimal systems lack: then /dev/serial/by-id, /dev/ttyACM* and /dev/ttyUSB*
 * are scanned, with the USB ids read from sysfs.
 */
export async function listPorts(options: ListPortsOptions = {}): Promise<PortInfo[]> {
  if (!options.scanOnly && options.devRoot === undefined) {
    try {
      const ports = await SerialPort.list();
      return ports.map((port) =>
        describe({
          path: port.path,
          vendorId: port.vendorId?.toLowerCase(),
          productId: port.productId?.toLowerCase(),
          manufacturer: port.manufacturer,
          serialNumber: port.serialNumber,
          byId: port.pnpId ? `/dev/serial/by-id/${port.pnpId}` : undefined,
        }),
      );
    } catch {
      // No udevadm (or no lister for this platform): fall through to the scan.
    }
  }
  return scanPorts(options.devRoot ?? '/dev', options.sysRoot ?? '/sys');
}

async function scanPorts(devRoot: string, sysRoot: string): Promise<PortInfo[]> {
  const byIdDir = path.join(devRoot, 'serial/by-id');
  const byId = new Map<string, string>();
  for (const name of await readdir(byIdDir).catch(() => [])) {
    const link = path.join(byIdDir, name);
    const target = await realpath(link).catch(async () => path.resolve(byIdDir, await readlink(link).catch(() => '')));
    byId.set(path.basename(target), link);
  }
  const ttyNames = (await readdir(devRoot).catch(() => [])).filter((name) => /^tty(ACM|USB)\d+$/.test(name));
  for (const name of byId.keys()) if (!ttyNames.includes(name)) ttyNames.push(name);
  ttyNames.sort(naturalOrder);

  const ports: PortInfo[] = [];
  for (const name of ttyNames) {
    const usb = await usbAttributes(sysRoot, name);
    ports.push(describe({ path: path.join(devRoot, name), byId: byId.get(name), ...usb }));
  }
  return ports;
}

type UsbAttributes = Pick<PortInfo, 'vendorId' | 'productId' | 'manufacturer' | 'product' | 'serialNumber'>;

/**
 * /sys/class/tty/NAME/device is the USB interface (ttyACM) or the usb-serial port below it (ttyUSB); the USB
 * device with idVendor/idProduct is a level or two up.
 */
async function usbAttributes(sysRoot: string, ttyName: string): Promise<UsbAttributes> {
  let dir = await realpath(path.join(sysRoot, 'class/tty', ttyName, 'device')).catch(() => undefined);
  for (let level = 0; dir && level < 4; level++, dir = path.dirname(dir)) {
    const vendorId = await attribute(dir, 'idVendor');
    if (vendorId) {
      return {
        vendorId: vendorId.toLowerCase(),
        productId: (await attribute(dir, 'idProduct'))?.toLowerCase(),
        manufacturer: await attribute(dir, 'manufacturer'),
        product: await attribute(dir, 'product'),
        serialNumber: await attribute(dir, 'serial'),
      };
    }
  }
  return {};
}

async function attribute(dir: string, name: string): Promise<string | undefined> {
  const value = await readFile(path.join(dir, name), 'utf8').catch(() => undefined);
  return value?.trim() || undefined;
}

function describe(port: Omit<PortInfo, 'kind' | 'description'>): PortInfo {
  const ids = port.vendorId ? ` (${port.vendorId}:${port.productId ?? '????'})` : '';
  if (port.vendorId === ST_VENDOR) {
    return { ...port, kind: 'st-link', description: `ST-LINK virtual COM port${ids}` };
  }
  const bridge = port.vendorId ? USB_UART_BRIDGES[port.vendorId] : undefined;
  if (bridge) return { ...port, kind: 'usb-uart', description: `${bridge}${ids}` };
  const what = [port.manufacturer, port.product].filter(Boolean).join(' ') || 'serial port';
  return { ...port, kind: 'other', description: `${what}${ids}` };
}

/** ttyACM2 before ttyACM10. */
function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
