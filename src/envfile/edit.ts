import dotenv from 'dotenv';
import { RotateError } from '../errors.js';

/** New value per key, or `null` to remove the key's lines. */
export type EnvEdits = Record<string, string | null>;

// One assignment as dotenv reads it: optional `export `, KEY, `=`, a value that may be quoted (and, in quotes,
// span lines), then an optional comment. Mirrors dotenv's own LINE pattern so both agree on where a value ends:
// like dotenv, a quoted value counts only when nothing but blanks and a comment follows it on its line, so a stray
// quote (`NOTE='it`) is read as an unquoted value instead of pairing with a quote some lines below. dotenv also
// reads `KEY: value`; so does this, else an edit would append a second line and leave the old value behind.
const LINE =
  /^([ \t]*(?:export[ \t]+)?)([\w.-]+)([ \t]*=[ \t]*|:[ \t]+)('(?:\\'|[^'])*'|"(?:\\"|[^"])*"|`(?:\\`|[^`])*`|[^#\r\n]*)([ \t]*(?:#[^\r\n]*)?)(\r?\n|$)/gm;

interface Assignment {
  key: string;
  start: number;
  end: number;
  prefix: string;
  equals: string;
  quote: string;
  trailer: string;
  eol: string;
}

function assignments(text: string): Assignment[] {
  const found: Assignment[] = [];
  for (const m of text.matchAll(LINE)) {
    if (m[0] === '') {
      LINE.lastIndex++;
      continue;
    }
    const raw = m[4] ?? '';
    const quote = /^['"`]/.test(raw) && raw.length > 1 && raw.at(-1) === raw[0] ? raw[0]! : '';
    // An unquoted value keeps its trailing blanks only as the gap before a comment.
    const trailer = quote ? (m[5] ?? '') : (raw.match(/[ \t]*$/)?.[0] ?? '') + (m[5] ?? '');
    found.push({
      key: m[2]!,
      start: m.index,
      end: m.index + m[0].length,
      prefix: m[1] ?? '',
      equals: m[3] ?? '=',
      quote,
      trailer,
      eol: m[6] ?? '',
    });
  }
  return found;
}

/**
 * A UTF-8 byte order mark (editors on Windows write one) belongs to the file, not to its first key: it is set aside
 * before the lines are read and put back in front when the file is written.
 */
const BOM = '\uFEFF';

function splitBom(text: string): { bom: string; body: string } {
  return text.startsWith(BOM) ? { bom: BOM, body: text.slice(BOM.length) } : { bom: '', body: text };
}

/** The file's values as dotenv reads them, a byte order mark set aside. */
export const parseEnv = (text: string): Record<string, string> => dotenv.parse(splitBom(text).body);

/** The 1-based line where `key` is assigned, for error messages. */
function lineOf(text: string, key: string): number | undefined {
  const { body } = splitBom(text);
  const found = assignments(body).find((a) => a.key === key);
  return found ? body.slice(0, found.start).split('\n').length : undefined;
}

/**
 * Keys among `keys` whose value is written as a reference to another variable (`${OTHER}`, `$OTHER`), unquoted or in
 * double quotes: docker compose and dotenv-expand put the other variable's value there, dotenv and many loaders the
 * text itself. rotate reads, verifies and replaces the text, so the app may have run on something else.
 */
export function variableReferences(text: string, keys: readonly string[]): Array<{ key: string; line: number; reference: string }> {
  const { body } = splitBom(text);
  const found: Array<{ key: string; line: number; reference: string }> = [];
  for (const m of body.matchAll(LINE)) {
    if (m[0] === '' || !keys.includes(m[2]!)) continue;
    const raw = m[4] ?? '';
    if (raw.startsWith("'")) continue;
    const reference = /\$\{[^}\s]*\}|\$[A-Za-z_][A-Za-z0-9_]*/.exec(raw)?.[0];
    if (reference) found.push({ key: m[2]!, line: body.slice(0, m.index).split('\n').length, reference });
  }
  return found;
}

/** Values we write never need escaping: no newline, quote, `#`, `$` or surrounding blank. */
export function assertWritableValue(key: string, value: string): void {
  if (!/^[^\s'"`#$\\]*$/.test(value)) {
    throw new RotateError('ENV_VALUE_UNSAFE', `the new value of ${key} contains characters an env file would mangle`, {
      hint: 'rotate writes values unquoted, and this one has a blank, quote, # or $ (a previous value being restored, or a bug): write that line by hand',
    });
  }
}

function lineEnding(text: string): string {
  return /\r\n/.test(text) ? '\r\n' : '\n';
}

/**
 * Applies `edits` to the text of an env file: every line that assigns an edited key gets the new value (its
 * `export `, spacing, quote style and trailing comment kept), a `null` edit removes those lines, and a key not
 * present is appended. Every other byte is kept as it was.
 */
export function replaceEnvLines(file: string, edits: EnvEdits): string {
  const { bom, body } = splitBom(file);
  return bom + replaceInBody(body, edits);
}

function replaceInBody(text: string, edits: EnvEdits): string {
  for (const [key, value] of Object.entries(edits)) if (value !== null) assertWritableValue(key, value);
  const seen = new Set<string>();
  let out = '';
  let cursor = 0;
  for (const a of assignments(text)) {
    if (!Object.hasOwn(edits, a.key)) continue;
    seen.add(a.key);
    out += text.slice(cursor, a.start);
    const value = edits[a.key];
    if (value !== null && value !== undefined) {
      out += `${a.prefix}${a.key}${a.equals}${a.quote}${value}${a.quote}${a.trailer}${a.eol}`;
    } else if (a.eol === '' && a.end === text.length) {
      // Removing a last line that had no newline: its line break went with it, so appending then removing a
      // key gives back the same bytes.
      out = out.replace(/\r?\n$/, '');
    }
    cursor = a.end;
  }
  out += text.slice(cursor);
  const eol = lineEnding(text);
  const noFinalNewline = out.length > 0 && !out.endsWith('\n');
  let appended = false;
  for (const [key, value] of Object.entries(edits)) {
    if (seen.has(key) || value === null) continue;
    if (out.length > 0 && !out.endsWith('\n')) out += eol;
    out += `${key}=${value}${eol}`;
    appended = true;
  }
  // A file that ended without a newline still does.
  return appended && noFinalNewline ? out.slice(0, -eol.length) : out;
}

/**
 * Proves an edit did what it should: the edited keys read back as their new values (or are gone) and every
 * other key parses to exactly what it did before. Throws before anything is written otherwise.
 */
export function checkEnvEdit(before: string, after: string, edits: EnvEdits, path = 'the env file'): void {
  const old = parseEnv(before);
  const now = parseEnv(after);
  const expected: Record<string, string> = { ...old };
  for (const [key, value] of Object.entries(edits)) {
    if (value === null) delete expected[key];
    else expected[key] = value;
  }
  const keys = new Set([...Object.keys(expected), ...Object.keys(now)]);
  for (const key of keys) {
    if (expected[key] !== now[key]) {
      const line = lineOf(after, key) ?? lineOf(before, key);
      throw new RotateError(
        'ENV_EDIT_MISMATCH',
        `${path}${line ? `:${line}` : ''}: after editing, ${key} would not read back as intended; nothing was written`,
        {
          hint: 'that line has a quote or escape rotate cannot edit safely: write it plainly (KEY=value) by hand, then run rotate again',
        },
      );
    }
  }
}
