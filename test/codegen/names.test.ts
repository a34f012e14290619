/**
 * Names from model files never reach C as code: identifiers come from a sanitized prefix and indices, names live only
 * in escaped string literals. Checked by compiling a library whose model and node names are hostile and reading the
 * names back from the compiled program, byte for byte.
 */
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_CFLAGS } from '../../src/build/host.js';
import { generateLibrary, libraryFileNames } from '../../src/codegen/index.js';
import { commentText, cStringLiteral, isValidPrefix, sanitizePrefix } from '../../src/codegen/names.js';
import { UsageError } from '../../src/errors.js';
import { mergeLayers, randomLayer } from './support/layers.js';
import { Random } from './support/random.js';

const HOSTILE = [
  '../../x; system("rm -rf /")',
  'a */ int evil; /* b',
  'trigraph ??/\nnext line ??= ??( ??)',
  'back\\slash "quoted" \'single\'',
  'tab\there\r\nand\u0000nul',
  'ünïcödé ✓ 模型',
  '%s%n%x',
  '\\x41\\101 octal-looking',
];

/** C source with comments removed and string/character literals emptied, read the way the C lexer reads it. */
function codeOutsideCommentsAndStrings(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      out += ' ';
    } else if (text[i] === '"' || text[i] === "'") {
      const quote = text[i]!;
      i++;
      while (i < text.length && text[i] !== quote) i += text[i] === '\\' ? 2 : 1;
      i++;
      out += `${quote}${quote}`;
    } else {
      out += text[i++];
    }
  }
  return out;
}

describe('sanitizePrefix', () => {
  it('makes a C identifier stem out of any model name', () => {
    expect(sanitizePrefix('kws_ref_model.tflite')).toBe('kws_ref_model');
    expect(sanitizePrefix('MobileNet V1 (0.25)')).toBe('mobilenet_v1_0_25');
    expect(sanitizePrefix('../../x; system("rm")')).toBe('x_system_rm');
    expect(sanitizePrefix('123')).toBe('model');
    expect(sanitizePrefix('')).toBe('model');
    expect(sanitizePrefix('模型')).toBe('model');
    expect(sanitizePrefix('a'.repeat(100))).toHaveLength(32);
    expect(sanitizePrefix('Types')).toBe('types_model'); // tinyedge_types.h is taken
  });

  it('always returns a usable prefix (1000 random names)', () => {
    const random = new Random(5);
    const alphabet = 'aZ9_-. /\\"?*é模\n';
    for (let i = 0; i < 1000; i++) {
      const name = Array.from({ length: random.int(0, 50) }, () => alphabet[random.int(0, alphabet.length - 1)]).join('');
      expect(isValidPrefix(sanitizePrefix(name)), JSON.stringify(name)).toBe(true);
    }
  });

  it('rejects an explicit prefix that is not an identifier stem', () => {
    const { graph } = mergeLayers('p', [randomLayer('unary', 1, 'u')]);
    expect(() => generateLibrary(graph, { prefix: 'bad prefix"', modelHash: '0'.repeat(16) })).toThrow(UsageError);
    expect(() => generateLibrary(graph, { prefix: 'types', modelHash: '0'.repeat(16) })).toThrow(UsageError);
    expect(generateLibrary(graph, { prefix: 'good_1', modelHash: '0'.repeat(16) }).prefix).toBe('good_1');
  });
});

describe('C string literals and comments', () => {
  it('escape quotes, backslashes, question marks (trigraphs) and every non-printable byte', () => {
    expect(cStringLiteral('a"b\\c?d')).toBe('"a\\"b\\\\c\\?d"');
    expect(cStringLiteral('x\ny\u0000')).toBe('"x\\012y\\000"');
    expect(cStringLiteral('é')).toBe('"\\303\\251"');
  });

  it('keep comment text free of terminators, splices and trigraphs', () => {
    for (const name of HOSTILE) expect(commentText(name)).not.toMatch(/[*/\\?\n\r]/);
  });
});

describe('a library whose names are hostile', () => {
  it('compiles cleanly and hands every name back byte for byte', async () => {
    const layers = HOSTILE.map((_, i) => randomLayer('unary', 100 + i, `l${i}`));
    const { graph } = mergeLayers(HOSTILE[0]!, layers);
    graph.nodes.forEach((node, i) => (node.name = HOSTILE[i]!));
    graph.inputs.forEach((io, i) => (io.name = HOSTILE[(i + 1) % HOSTILE.length]!));
    graph.outputs.forEach((io, i) => (io.name = HOSTILE[(i + 2) % HOSTILE.length]!));
    const library = generateLibrary(graph, { modelHash: 'ABCDEF0123456789ffff' });
    expect(library.prefix).toBe('x_system_rm_rf');

    for (const [file, text] of library.files) {
      if (!file.endsWith('.c') && !file.endsWith('.h')) continue;
      // Outside comments and string literals no generated file contains a hostile name's dangerous parts (had a
      // name closed its comment, the rest of it would be left here).
      const code = codeOutsideCommentsAndStrings(text);
      expect(code, file).not.toContain('system(');
      expect(code, file).not.toContain('int evil');
      expect(code, file).not.toContain('??');
    }

    const dir = await mkdtemp(path.join(tmpdir(), 'tinyedge-names-'));
    try {
      for (const [name, content] of library.files) await writeFile(path.join(dir, name), content);
      const names = libraryFileNames(library.prefix);
      const p = `tinyedge_${library.prefix}`;
      // Prints every name of the info struct as hex, one per line.
      await writeFile(
        path.join(dir, 'main.c'),
        `#include <stdio.h>
#include "${names.header}"
static void hex(const char *s) { while (*s) printf("%02x", (unsigned char)*s++); printf("\\n"); }
int main(void) {
  uint32_t i;
  hex(${p}_info.name);
  hex(${p}_info.hash);
  for (i = 0; i < ${p}_info.layer_count; i++) { hex(${p}_info.layer_names[i]); hex(${p}_info.layer_ops[i]); }
  return 0;
}
`,
      );
      await execa('gcc', [...HOST_CFLAGS, '-I', dir, '-o', path.join(dir, 'names'), path.join(dir, 'main.c'), path.join(dir, names.model), path.join(dir, names.weights)]);
      const { stdout } = await execa(path.join(dir, 'names'));
      const lines = stdout.split('\n').map((h) => Buffer.from(h, 'hex').toString('utf8'));
      // C strings end at NUL: a name holding one is cut there, which is what C can represent.
      const cut = (s: string) => s.split('\u0000')[0]!;
      expect(lines[0]).toBe(cut(HOSTILE[0]!));
      expect(lines[1]).toBe('abcdef0123456789');
      graph.nodes.forEach((node, i) => {
        expect(lines[2 + 2 * i]).toBe(cut(node.name));
        expect(lines[3 + 2 * i]).toBe(node.op);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
