/**
 * Serial port discovery. This machine has no USB serial device and no udevadm, so listPorts() must degrade to the
 * /dev + /sys scan without failing; the scan itself runs on a copy of the sysfs layout Linux gives a Nucleo's
 * ST-LINK (cdc_acm: ttyACM -> USB interface -> USB device) and a CP2102 (usb-serial: ttyUSB -> port -> interface).
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { listPorts } from '../../src/agent/ports.js';

let root: string;

async function usbDevice(sys: string, device: string, attributes: Record<string, string>): Promise<void> {
  await mkdir(path.join(sys, device), { recursive: true });
  for (const [name, value] of Object.entries(attributes)) await writeFile(path.join(sys, device, name), `${value}\n`);
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tinyedge-ports-test-'));
  const dev = path.join(root, 'dev');
  const sys = path.join(root, 'sys');
  await mkdir(path.join(dev, 'serial/by-id'), { recursive: true });
  await mkdir(path.join(sys, 'class/tty'), { recursive: true });
  for (const name of ['ttyACM0', 'ttyUSB0', 'ttyUSB1', 'ttyS0']) await writeFile(path.join(dev, name), '');

  const stlink = 'devices/pci0000:00/usb1/1-1';
  await usbDevice(sys, stlink, { idVendor: '0483', idProduct: '374B', manufacturer: 'STMicroelectronics', product: 'STM32 STLink', serial: '0670FF48' });
  await mkdir(path.join(sys, stlink, '1-1:1.2/tty/ttyACM0'), { recursive: true });
  await mkdir(path.join(sys, 'class/tty/ttyACM0'), { recursive: true });
  await symlink(path.join(sys, stlink, '1-1:1.2'), path.join(sys, 'class/tty/ttyACM0/device'));

  const cp2102 = 'devices/pci0000:00/usb1/1-2';
  await usbDevice(sys, cp2102, { idVendor: '10c4', idProduct: 'ea60', manufacturer: 'Silicon Labs', product: 'CP2102 USB to UART Bridge Controller' });
  await mkdir(path.join(sys, cp2102, '1-2:1.0/ttyUSB0'), { recursive: true });
  await mkdir(path.join(sys, 'class/tty/ttyUSB0'), { recursive: true });
  await symlink(path.join(sys, cp2102, '1-2:1.0/ttyUSB0'), path.join(sys, 'class/tty/ttyUSB0/device'));

  // ttyUSB1: present in /dev, nothing in sysfs (a driver that does not expose its USB parent).
  await symlink('../../ttyACM0', path.join(dev, 'serial/by-id/usb-STMicroelectronics_STM32_STLink_0670FF48-if02'));
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('listPorts', () => {
  test('degrades gracefully on this machine (no udevadm, no USB serial device)', async () => {
    const ports = await listPorts();
    expect(Array.isArray(ports)).toBe(true);
    for (const port of ports) expect(port.path).toMatch(/^\/dev\/tty/);
  });

  test('the /dev + /sys scan marks the ST-LINK VCP and the USB-UART bridge, with ids and by-id names', async () => {
    const ports = await listPorts({ devRoot: path.join(root, 'dev'), sysRoot: path.join(root, 'sys') });
    const dev = path.join(root, 'dev');
    expect(ports).toEqual([
      {
        path: path.join(dev, 'ttyACM0'),
        byId: path.join(dev, 'serial/by-id/usb-STMicroelectronics_STM32_STLink_0670FF48-if02'),
        vendorId: '0483',
        productId: '374b',
        manufacturer: 'STMicroelectronics',
        product: 'STM32 STLink',
        serialNumber: '0670FF48',
        kind: 'st-link',
        description: 'ST-LINK virtual COM port (0483:374b)',
      },
      {
        path: path.join(dev, 'ttyUSB0'),
        byId: undefined,
        vendorId: '10c4',
        productId: 'ea60',
        manufacturer: 'Silicon Labs',
        product: 'CP2102 USB to UART Bridge Controller',
        serialNumber: undefined,
        kind: 'usb-uart',
        description: 'Silicon Labs CP210x USB-UART bridge (10c4:ea60)',
      },
      { path: path.join(dev, 'ttyUSB1'), byId: undefined, kind: 'other', description: 'serial port' },
    ]);
  });
});
