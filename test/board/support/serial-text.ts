import { SerialPort } from 'serialport';

/** Everything a port received, as text, for tests that wait on a firmware's line. */
export class SerialText {
  received = '';
  private waiters: { pattern: RegExp; resolve: () => void }[] = [];
  private readonly onData = (chunk: Buffer) => {
    this.received += chunk.toString('latin1');
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.pattern.test(this.received)) return true;
      waiter.resolve();
      return false;
    });
  };

  /** Listens on a port someone else opened (and closes). */
  constructor(readonly port: SerialPort) {
    port.on('data', this.onData);
  }

  static async open(path: string): Promise<SerialText> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    return new SerialText(port);
  }

  /** Resolves once the received text matches; rejects after `timeoutMs` with what did arrive. */
  waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    if (pattern.test(this.received)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; got ${JSON.stringify(this.received)}`)), timeoutMs);
      this.waiters.push({ pattern, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  write(text: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.port.write(text, (error) => (error ? reject(error) : resolve())));
  }

  detach(): void {
    this.port.off('data', this.onData);
  }

  close(): Promise<void> {
    this.detach();
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}
