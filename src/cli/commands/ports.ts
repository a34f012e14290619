/**
 * `tinyedge ports [--json]`: the serial ports a board may be on, ST-LINK virtual COM ports and USB-UART bridges
 * recognised by their USB vendor id.
 */
import type { Argv, CommandModule } from 'yargs';
import { listPorts } from '../../agent/ports.js';
import { formatTable } from '../table.js';

interface PortsArgs {
  json: boolean;
}

export const portsCommand: CommandModule<object, PortsArgs> = {
  command: 'ports',
  describe: 'List serial ports (ST-LINK and USB-UART bridges marked)',
  builder: (yargs: Argv) =>
    yargs.option('json', { type: 'boolean', default: false, describe: 'Print the ports as JSON on stdout' }) as unknown as Argv<PortsArgs>,
  handler: async (args) => {
    const ports = await listPorts();
    if (args.json) {
      process.stdout.write(`${JSON.stringify(ports)}\n`);
      return;
    }
    if (ports.length === 0) {
      process.stderr.write('no serial ports found (looked for /dev/serial/by-id, /dev/ttyACM*, /dev/ttyUSB*)\n');
      return;
    }
    const rows = ports.map((p) => [p.path, p.kind, p.description, p.byId ?? '']);
    process.stdout.write(`${formatTable(['port', 'kind', 'what', 'by-id'], rows, '')}\n`);
  },
};
