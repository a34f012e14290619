/**
 * Model and node names come from files the user did not write: they never reach C source as code. C identifiers are
 * built from a sanitized prefix and indices; names appear only inside C string literals, escaped here.
 */

const MAX_PREFIX_LENGTH = 32;
/** tinyedge_types.h is the shared types header: no library may be called `types`. */
const RESERVED_PREFIX = 'types';

/**
 * The library prefix P of tinyedge_P_run & co: lower-case letters, digits and single underscores, starting with a
 * letter, at most 32 characters. 'model' when nothing usable is left.
 */
export function sanitizePrefix(name: string): string {
  const base = name
    .replace(/\.[A-Za-z0-9]+$/, '') // a file extension is not part of the model's name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^[^a-z]+/, '')
    .slice(0, MAX_PREFIX_LENGTH)
    .replace(/_+$/, '');
  if (base === RESERVED_PREFIX) return `${base}_model`;
  return base.length > 0 ? base : 'model';
}

/** Whether `prefix` can be used as given (the shape sanitizePrefix returns). */
export function isValidPrefix(prefix: string): boolean {
  return /^[a-z][a-z0-9_]{0,31}$/.test(prefix) && !prefix.endsWith('_') && !prefix.includes('__') && prefix !== RESERVED_PREFIX;
}

/**
 * A C99 string literal holding `text` as UTF-8. Printable ASCII stays readable; quotes, backslashes and '?' (trigraphs)
 * are escaped; everything else becomes a three-digit octal escape, which cannot swallow the characters after it.
 */
export function cStringLiteral(text: string): string {
  let out = '"';
  for (const byte of new TextEncoder().encode(text)) {
    if (byte === 0x22 || byte === 0x5c || byte === 0x3f) out += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/**
 * Text safe inside a C block comment or a Markdown line, for humans reading generated files (never parsed): printable
 * ASCII without '*', '/', '\\' and '?', so no comment terminator, line splice or trigraph can form.
 */
export function commentText(text: string, maxLength = 80): string {
  const safe = text.replace(/[^\x20-\x7e]|[*/\\?]/g, '_');
  return safe.length > maxLength ? `${safe.slice(0, maxLength - 3)}...` : safe;
}
