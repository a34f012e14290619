#!/usr/bin/env node
// The `tinyedge` command: runs the compiled CLI (`npm run build` writes dist/).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("tinyedge: not built: run 'npm run build' first\n");
  process.exit(1);
}
// A closed pipe (`tinyedge inspect m.tflite | head`) is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
