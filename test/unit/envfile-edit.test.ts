// Property tests for the env-file editor: generated env files (every quoting style dotenv reads, comments, CRLF,
// duplicate keys, multi-line values) and generated edits with the values rotate writes.
import dotenv from 'dotenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertWritableValue, checkEnvEdit, type EnvEdits, parseEnv, replaceEnvLines, variableReferences } from '../../src/envfile/edit.js';

const BOM = '\uFEFF';

type Eol = '\n' | '\r\n';
type Quote = '' | "'" | '"' | '`';

interface Assignment {
  type: 'assign';
  indent: string;
  exported: string;
  key: string;
  /** `=` with the blanks around it. */
  equals: string;
  quote: Quote;
  /** Text between the quotes; `\n` stands for the file's line ending (multi-line double-quoted values). */
  value: string;
  /** Blanks and an inline comment after the value. */
  trailer: string;
}
interface Other {
  type: 'comment' | 'blank';
  text: string;
}
type Item = Assignment | Other;
interface EnvModel {
  items: Item[];
  eol: Eol;
  finalNewline: boolean;
}

const KEYS = [
  'JWT_SECRET',
  'JWT_SECRET_PREVIOUS',
  'DATABASE_URL',
  'REDIS_URL',
  'CELERY_BROKER_URL',
  'app.name',
  'feature-flag',
  'EXPORTED',
  'export',
];
const NEW_KEYS = ['STRIPE_WEBHOOK_SECRET', 'EXCHANGE_KEY_ENCRYPTION_KEY', 'NEW.KEY', 'new-key'];

const chars = (set: string, min: number, max: number) => fc.string({ unit: fc.constantFrom(...set), minLength: min, maxLength: max });
const WORD = 'abcXYZ019_-./:@%+=,~';
const blanks = (max: number) => chars(' \t', 0, max);

/**
 * Env files as people write them. With `oddLines`, lines with a stray quote (`NOTE='it`, `A="x" y`) join in, and
 * every other text is kept free of quotes, so that dotenv's reading of the file stays the one this model describes
 * (a stray quote can otherwise pair with a quote some lines below).
 */
function envModelArb(oddLines: boolean): fc.Arbitrary<EnvModel> {
  const q = (set: string) => (oddLines ? set.replace(/['"`]/g, '') : set);
  // ...and a quoted value must not start with blanks or `#` (`'a` + newline + `K='#x'` is one value to dotenv).
  const inQuotes = (set: string) => (oddLines ? set.replace(/['"` #]/g, '') : set);
  // An unquoted value never starts with a quote (dotenv would read it as quoted) nor holds `#` (a comment starts).
  const unquoted = fc
    .tuple(chars(WORD, 1, 1), chars(q(`${WORD} '"\``), 0, 14), chars(WORD, 0, 1))
    .map(([a, b, c]) => (c === '' && b.trimEnd() !== b ? a + b.trimEnd() : a + b + c));
  const singleQuoted = chars(inQuotes(`${WORD} #"\`$`), 0, 16);
  const backQuoted = chars(inQuotes(`${WORD} #'"$`), 0, 16);
  // Double quotes: escaped quotes and `\n` escapes, and real line breaks whose lines may look like assignments.
  const doubleLine = fc.oneof(
    chars(q(`${WORD} #'\`$`), 0, 12),
    fc.constantFrom('\\n', '\\"', 'a\\"b', '# not a comment'),
    fc.constantFrom(...KEYS).map((k) => `${k}=inside-a-quoted-value`),
  );
  const doubleQuoted = oddLines
    ? chars(`${WORD}$`, 0, 16)
    : fc.array(doubleLine, { minLength: 1, maxLength: 3 }).map((lines) => lines.join('\n'));
  const stray = fc.oneof(
    fc.tuple(fc.constantFrom("'", '"', '`'), chars(WORD, 1, 10)).map(([quote, text]) => quote + text),
    fc
      .tuple(fc.constantFrom("'", '"', '`'), chars(WORD, 0, 6), chars(WORD, 1, 6))
      .map(([quote, text, junk]) => `${quote}${text}${quote} ${junk}`),
  );

  const commentText = chars(q(`${WORD} '"\`#=$`), 0, 20);
  const trailer = fc.oneof(
    fc.constant(''),
    blanks(3).filter((s) => s !== ''),
    fc.tuple(blanks(3), commentText).map(([b, c]) => `${b}#${c}`),
  );

  const bodies = [
    unquoted.map((value) => ({ quote: '' as Quote, value })),
    fc.constant({ quote: '' as Quote, value: '' }),
    singleQuoted.map((value) => ({ quote: "'" as Quote, value })),
    doubleQuoted.map((value) => ({ quote: '"' as Quote, value })),
    backQuoted.map((value) => ({ quote: '`' as Quote, value })),
    ...(oddLines ? [stray.map((value) => ({ quote: '' as Quote, value }))] : []),
  ];
  const assignment: fc.Arbitrary<Assignment> = fc
    .record({
      indent: fc.constantFrom('', '', '  ', '\t'),
      exported: fc.constantFrom('', '', 'export ', 'export\t'),
      key: fc.constantFrom(...KEYS),
      equals: fc.constantFrom('=', '=', ' = ', '= ', ' =', '=\t', ': '),
      body: fc.oneof(...bodies),
      trailer,
    })
    .map(({ body, ...rest }) => {
      const a: Assignment = { type: 'assign', ...rest, ...body };
      // The editor reads the blanks after `=` of an empty unquoted value as part of the `=`.
      if (a.quote === '' && a.value === '') {
        const lead = /^[ \t]*/.exec(a.trailer)![0];
        a.equals += lead;
        a.trailer = a.trailer.slice(lead.length);
      }
      return a;
    });

  const other: fc.Arbitrary<Other> = fc.oneof(
    commentText.map((t) => ({ type: 'comment' as const, text: `#${t}` })),
    fc.constantFrom(...KEYS).map((k) => ({ type: 'comment' as const, text: `# ${k}=commented-out-old-value` })),
    blanks(3).map((text) => ({ type: 'blank' as const, text })),
  );

  return fc.record({
    items: fc.array(fc.oneof({ arbitrary: assignment, weight: 3 }, { arbitrary: other, weight: 2 }), { maxLength: 14 }),
    eol: fc.constantFrom<Eol>('\n', '\r\n'),
    finalNewline: fc.boolean(),
  });
}

const envModel = fc.oneof(envModelArb(false), envModelArb(true));

// The values rotate writes: base64url, hex, and URLs with a percent-encoded password.
const b64url = chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 16, 64);
const hex = chars('0123456789abcdef', 16, 64);
const percentEncoded = fc
  .string({ minLength: 12, maxLength: 24 })
  .map((s) =>
    [...Buffer.from(s)]
      .map((b) => (/[\w-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
      .join(''),
  )
  .filter((s) => s.length >= 12);
const url = fc
  .tuple(
    fc.constantFrom('postgresql+asyncpg://app', 'postgresql://app', 'redis://', 'redis://default'),
    percentEncoded,
    fc.constantFrom('@db:5432/cryptoorchestrator', '@127.0.0.1:6379/0', '@redis:6379/1?ssl=true&x=1'),
  )
  .map(([scheme, password, rest]) => `${scheme}:${password}${rest}`);
const newValue = fc.oneof(b64url, hex, url);

const edits: fc.Arbitrary<EnvEdits> = fc.dictionary(fc.constantFrom(...KEYS, ...NEW_KEYS), fc.option(newValue, { freq: 4, nil: null }), {
  minKeys: 1,
  maxKeys: 5,
});

function renderLine(item: Item, eol: Eol): string {
  if (item.type !== 'assign') return item.text;
  const value = item.value.replaceAll('\n', eol);
  return `${item.indent}${item.exported}${item.key}${item.equals}${item.quote}${value}${item.quote}${item.trailer}`;
}

/** Each line with the line ending it has in the file (the last one has none without a final newline). */
function lines(model: EnvModel): Array<{ item: Item; text: string }> {
  return model.items.map((item, i) => {
    const last = i === model.items.length - 1;
    return { item, text: renderLine(item, model.eol) + (last && !model.finalNewline ? '' : model.eol) };
  });
}

const render = (model: EnvModel): string =>
  lines(model)
    .map((l) => l.text)
    .join('');

/** A file with no line break says nothing about its line endings: appended lines get LF. */
const appendEol = (model: EnvModel): Eol => (render(model).includes('\n') ? model.eol : '\n');

/**
 * What the editor promises: edited lines keep their shape with the new value, removals vanish, missing keys are
 * appended, and a file that ended without a line break still does.
 */
function expectedEdit(model: EnvModel, changes: EnvEdits): string {
  let out = '';
  const present = new Set<string>();
  for (const { item, text } of lines(model)) {
    if (item.type !== 'assign' || !Object.hasOwn(changes, item.key)) {
      out += text;
      continue;
    }
    present.add(item.key);
    const value = changes[item.key];
    if (value === null || value === undefined) continue;
    const eol = text.endsWith('\n') ? model.eol : '';
    out += renderLine({ ...item, value }, model.eol) + eol;
  }
  const before = render(model);
  if (before !== '' && !before.endsWith('\n') && out.endsWith('\n')) out = out.slice(0, -model.eol.length);
  const eol = appendEol(model);
  const openEnded = out !== '' && !out.endsWith('\n');
  let appended = false;
  for (const [key, value] of Object.entries(changes)) {
    if (present.has(key) || value === null) continue;
    if (out !== '' && !out.endsWith('\n')) out += eol;
    out += `${key}=${value}${eol}`;
    appended = true;
  }
  return appended && openEnded ? out.slice(0, -eol.length) : out;
}

function parsedWith(before: string, changes: EnvEdits): Record<string, string> {
  const expected: Record<string, string> = { ...dotenv.parse(before) };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete expected[key];
    else expected[key] = value;
  }
  return expected;
}

const RUNS = { numRuns: Number(process.env.ENVFILE_RUNS ?? 400) };

describe('replaceEnvLines: properties over generated env files', () => {
  it("keeps every byte outside the edited keys' lines", () => {
    fc.assert(
      fc.property(envModel, edits, (model, changes) => {
        const before = render(model);
        const after = replaceEnvLines(before, changes);
        const restBefore = lines(model)
          .filter(({ item }) => item.type !== 'assign' || !Object.hasOwn(changes, item.key))
          .map((l) => l.text)
          .join('');
        // In the result, an edited key's line is a single line holding its new value.
        const newValues = Object.entries(changes).filter((e): e is [string, string] => e[1] !== null);
        const restAfter = (after.match(/[^\n]*\n|[^\n]+$/g) ?? [])
          .filter((line) => !newValues.some(([key, value]) => line.includes(`${key}`) && line.includes(value)))
          .join('');
        // Only the final line break may move (a file keeps ending with or without one); the exact-bytes
        // property below pins that down.
        const eol = appendEol(model);
        expect([restBefore, restBefore + eol, restBefore.endsWith(eol) ? restBefore.slice(0, -eol.length) : restBefore]).toContain(
          restAfter,
        );
      }),
      RUNS,
    );
  });

  it('gives exactly the expected bytes: edited lines keep indent, export, spacing, quotes and comment', () => {
    fc.assert(
      fc.property(envModel, edits, (model, changes) => {
        expect(replaceEnvLines(render(model), changes)).toBe(expectedEdit(model, changes));
      }),
      RUNS,
    );
  });

  it('reads back with dotenv as the old values with the edits applied (and checkEnvEdit agrees)', () => {
    fc.assert(
      fc.property(envModel, edits, (model, changes) => {
        const before = render(model);
        const after = replaceEnvLines(before, changes);
        expect(dotenv.parse(after)).toEqual(parsedWith(before, changes));
        checkEnvEdit(before, after, changes);
      }),
      RUNS,
    );
  });

  it('a UTF-8 byte order mark stays in front of the file and out of the first key: same bytes after it, same values', () => {
    fc.assert(
      fc.property(envModel, edits, (model, changes) => {
        const before = BOM + render(model);
        const after = replaceEnvLines(before, changes);
        expect(after).toBe(BOM + expectedEdit(model, changes));
        expect(parseEnv(after)).toEqual(parsedWith(render(model), changes));
        checkEnvEdit(before, after, changes);
      }),
      RUNS,
    );
  });

  it('is a byte-for-byte no-op when every value is already the one asked for', () => {
    fc.assert(
      fc.property(envModel, fc.constantFrom(...NEW_KEYS), (model, missing) => {
        const before = render(model);
        const current = dotenv.parse(before);
        const same: EnvEdits = { [missing]: null };
        for (const item of model.items) {
          if (item.type !== 'assign' || !Object.hasOwn(current, item.key)) continue;
          const value = current[item.key]!;
          // Only keys whose every line already holds that value, and values rotate could write.
          const lineValues = model.items
            .filter((i): i is Assignment => i.type === 'assign' && i.key === item.key)
            .map((i) => dotenv.parse(renderLine(i, model.eol))[i.key]);
          const writable = (() => {
            try {
              assertWritableValue(item.key, value);
              return true;
            } catch {
              return false;
            }
          })();
          if (writable && lineValues.every((v) => v === value)) same[item.key] = value;
        }
        expect(replaceEnvLines(before, same)).toBe(before);
      }),
      RUNS,
    );
  });

  it('keeps CRLF files CRLF and LF files LF', () => {
    fc.assert(
      fc.property(envModel, edits, (model, changes) => {
        const after = replaceEnvLines(render(model), changes);
        if (appendEol(model) === '\r\n') expect(after).not.toMatch(/(^|[^\r])\n/);
        else expect(after).not.toContain('\r');
      }),
      RUNS,
    );
  });
});

// A realistic platform .env (PLATFORM.md): comments everywhere, `export `, quotes, a commented-out old value.
const PLATFORM_ENV = [
  '# CryptoOrchestrator: production environment',
  '# Owner: platform team. Rotated by `rotate`; do not edit secrets by hand.',
  '',
  'ENVIRONMENT=production',
  'LOG_LEVEL=info   # debug leaks request bodies',
  '',
  '# --- Auth ---',
  '# JWT_SECRET=the-old-one-from-2023',
  'JWT_SECRET=Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6cXV1enF1dXo',
  'export JWT_REFRESH_SECRET="cmVmcmVzaC1zZWNyZXQtdGhhdC1pcy1sb25nLWVub3VnaA"  # same length rules',
  '',
  '# --- Exchange API keys (Fernet, PBKDF2 of this value) ---',
  "EXCHANGE_KEY_ENCRYPTION_KEY='default-encryption-key-change-in-production-32-chars!'",
  '',
  '# --- Database ---',
  'DATABASE_URL = postgresql+asyncpg://crypto:0ld%2Fpass@db:5432/cryptoorchestrator',
  'DB_POOL_SIZE=20',
  '',
  '# --- Redis / Celery ---',
  'REDIS_URL=redis://:oldredispass@redis:6379/0',
  'CELERY_BROKER_URL=redis://:oldredispass@redis:6379/1',
  'CELERY_RESULT_BACKEND=redis://:oldredispass@redis:6379/2 # results',
  '',
  '# --- Stripe ---',
  'STRIPE_SECRET_KEY=sk_live_51Hxxxxxxxxxxxxxxxxxxxxxxxx',
  'STRIPE_PUBLISHABLE_KEY=pk_live_51Hxxxxxxxxxxxxxxxxxxxxxxxx',
  'STRIPE_WEBHOOK_SECRET="whsec_oldoldoldoldoldoldoldoldoldold"',
  '',
  'CORS_ORIGINS="https://app.example.com,https://admin.example.com"',
  'GREETING="multi',
  'line value # not a comment',
  'JWT_SECRET=inside-the-greeting"',
  '',
].join('\n');

describe('replaceEnvLines: a platform .env, byte for byte', () => {
  const jwt = 'q3N8bX2vYk7Lw0aRz5TfHc1PdJ9sUe4GmA6oKyVnB_E';
  const db = 'postgresql+asyncpg://crypto:N3w%2Bp4ss%3D@db:5432/cryptoorchestrator';
  const redisPass = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';

  it('rotates JWT with a grace period: the new value in place, the old appended as _PREVIOUS', () => {
    const after = replaceEnvLines(PLATFORM_ENV, {
      JWT_SECRET: jwt,
      JWT_SECRET_PREVIOUS: 'Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6cXV1enF1dXo',
    });
    expect(after).toBe(
      PLATFORM_ENV.replace('JWT_SECRET=Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6cXV1enF1dXo\n', `JWT_SECRET=${jwt}\n`) +
        'JWT_SECRET_PREVIOUS=Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6cXV1enF1dXo\n',
    );
    // The commented-out value and the look-alike line inside GREETING are untouched.
    expect(after).toContain('# JWT_SECRET=the-old-one-from-2023\n');
    expect(after).toContain('JWT_SECRET=inside-the-greeting"\n');
  });

  it('rotates the database and redis URLs keeping spacing, driver prefix and comments, then retires _PREVIOUS', () => {
    const withPrevious = `${PLATFORM_ENV}JWT_SECRET_PREVIOUS=old\n`;
    const after = replaceEnvLines(withPrevious, {
      DATABASE_URL: db,
      REDIS_URL: `redis://:${redisPass}@redis:6379/0`,
      CELERY_BROKER_URL: `redis://:${redisPass}@redis:6379/1`,
      CELERY_RESULT_BACKEND: `redis://:${redisPass}@redis:6379/2`,
      JWT_SECRET_PREVIOUS: null,
    });
    expect(after).toBe(
      PLATFORM_ENV.replace('DATABASE_URL = postgresql+asyncpg://crypto:0ld%2Fpass@db:5432/cryptoorchestrator\n', `DATABASE_URL = ${db}\n`)
        .replace('REDIS_URL=redis://:oldredispass@redis:6379/0\n', `REDIS_URL=redis://:${redisPass}@redis:6379/0\n`)
        .replace('CELERY_BROKER_URL=redis://:oldredispass@redis:6379/1\n', `CELERY_BROKER_URL=redis://:${redisPass}@redis:6379/1\n`)
        .replace(
          'CELERY_RESULT_BACKEND=redis://:oldredispass@redis:6379/2 # results\n',
          `CELERY_RESULT_BACKEND=redis://:${redisPass}@redis:6379/2 # results\n`,
        ),
    );
    checkEnvEdit(withPrevious, after, {
      DATABASE_URL: db,
      REDIS_URL: `redis://:${redisPass}@redis:6379/0`,
      CELERY_BROKER_URL: `redis://:${redisPass}@redis:6379/1`,
      CELERY_RESULT_BACKEND: `redis://:${redisPass}@redis:6379/2`,
      JWT_SECRET_PREVIOUS: null,
    });
  });

  it('keeps export, double quotes and the inline comment of a quoted line; single quotes stay single', () => {
    const after = replaceEnvLines(PLATFORM_ENV, { JWT_REFRESH_SECRET: jwt, EXCHANGE_KEY_ENCRYPTION_KEY: 'abcdef0123456789' });
    expect(after).toContain(`export JWT_REFRESH_SECRET="${jwt}"  # same length rules\n`);
    expect(after).toContain("EXCHANGE_KEY_ENCRYPTION_KEY='abcdef0123456789'\n");
    expect(after.length - PLATFORM_ENV.length).toBe(
      jwt.length -
        'cmVmcmVzaC1zZWNyZXQtdGhhdC1pcy1sb25nLWVub3VnaA'.length +
        'abcdef0123456789'.length -
        'default-encryption-key-change-in-production-32-chars!'.length,
    );
  });

  it('does the same to the CRLF version of the file, and stays CRLF', () => {
    const crlf = PLATFORM_ENV.replaceAll('\n', '\r\n');
    const after = replaceEnvLines(crlf, { JWT_SECRET: jwt, JWT_SECRET_PREVIOUS: 'Zm9vYmFy' });
    expect(after).toBe(
      crlf.replace('JWT_SECRET=Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6cXV1enF1dXo\r\n', `JWT_SECRET=${jwt}\r\n`) +
        'JWT_SECRET_PREVIOUS=Zm9vYmFy\r\n',
    );
  });

  it('the same values again change nothing', () => {
    const values = dotenv.parse(PLATFORM_ENV);
    const same = {
      JWT_SECRET: values.JWT_SECRET!,
      DATABASE_URL: values.DATABASE_URL!,
      CELERY_RESULT_BACKEND: values.CELERY_RESULT_BACKEND!,
      JWT_REFRESH_SECRET: values.JWT_REFRESH_SECRET!,
    };
    expect(replaceEnvLines(PLATFORM_ENV, same)).toBe(PLATFORM_ENV);
  });

  it('a file without a final newline keeps ending without one', () => {
    expect(replaceEnvLines('# c\nA=1', { A: 'abc' })).toBe('# c\nA=abc');
    expect(replaceEnvLines('A=1', { B: 'abc' })).toBe('A=1\nB=abc');
    expect(replaceEnvLines('A=1\r\nB=2', { B: null })).toBe('A=1');
  });

  it('reads a line with a stray quote the way dotenv does, without swallowing the lines below it', () => {
    // dotenv: NOTE is the unquoted `'it`, and JWT_SECRET is a key of its own two lines below.
    const text = "NOTE='it\n# someone's comment\nJWT_SECRET=old\nTITLE=\"a\" b\nOTHER=x'\n";
    expect(dotenv.parse(text)).toEqual({ NOTE: "'it", JWT_SECRET: 'old', TITLE: '"a" b', OTHER: "x'" });
    expect(replaceEnvLines(text, { JWT_SECRET: jwt })).toBe(text.replace('JWT_SECRET=old', `JWT_SECRET=${jwt}`));
    expect(replaceEnvLines(text, { NOTE: null })).toBe(text.replace("NOTE='it\n", ''));
    expect(replaceEnvLines(text, { TITLE: 'abc' })).toBe(text.replace('TITLE="a" b', 'TITLE=abc'));
  });

  it('edits a `KEY: value` line in place (dotenv reads it) instead of appending a second one', () => {
    const text = '# yaml-ish\nJWT_SECRET: old-secret-value\nOTHER=1\n';
    expect(dotenv.parse(text).JWT_SECRET).toBe('old-secret-value');
    const after = replaceEnvLines(text, { JWT_SECRET: jwt });
    expect(after).toBe(`# yaml-ish\nJWT_SECRET: ${jwt}\nOTHER=1\n`);
    expect(after).not.toContain('old-secret-value');
  });

  it('a byte order mark before the first key: that line is edited in place, never a second one appended', () => {
    const text = `${BOM}JWT_SECRET=old-secret-value\r\nOTHER=1\r\n`;
    const after = replaceEnvLines(text, { JWT_SECRET: jwt });
    expect(after).toBe(`${BOM}JWT_SECRET=${jwt}\r\nOTHER=1\r\n`);
    expect(after).not.toContain('old-secret-value');
    expect(after.match(/JWT_SECRET/g)).toHaveLength(1);
    expect(parseEnv(after)).toEqual({ JWT_SECRET: jwt, OTHER: '1' });
    expect(Object.keys(parseEnv(text))).toEqual(['JWT_SECRET', 'OTHER']);
    expect(replaceEnvLines(`${BOM}export JWT_SECRET="old" # c\n`, { JWT_SECRET: jwt })).toBe(`${BOM}export JWT_SECRET="${jwt}" # c\n`);
    expect(replaceEnvLines(`${BOM}JWT_SECRET=old`, { JWT_SECRET: null })).toBe(BOM);
    expect(replaceEnvLines(BOM, { JWT_SECRET: jwt })).toBe(`${BOM}JWT_SECRET=${jwt}\n`);
    expect(replaceEnvLines(`${BOM}A=1\n`, { B: 'x' })).toBe(`${BOM}A=1\nB=x\n`);
    // Only a mark at the very start is one; elsewhere U+FEFF is just a character of a value.
    expect(replaceEnvLines(`A=1\nB=x${BOM}\n`, { B: 'y' })).toBe('A=1\nB=y\n');
  });

  it('names the keys written as a reference to another variable (unquoted or double-quoted), with their line', () => {
    const text = `${BOM}A=1\nJWT_SECRET=\${BASE}-tail\nDATABASE_URL="postgresql://u:$DB_PASS@h/db"\nREDIS_URL='redis://:$literal@h'\nOTHER=$X\nCOST=5$\n`;
    expect(variableReferences(text, ['JWT_SECRET', 'DATABASE_URL', 'REDIS_URL', 'COST'])).toEqual([
      { key: 'JWT_SECRET', line: 2, reference: `\${BASE}` },
      { key: 'DATABASE_URL', line: 3, reference: '$DB_PASS' },
    ]);
    expect(variableReferences('JWT_SECRET=plain-value\n', ['JWT_SECRET'])).toEqual([]);
  });

  it('refuses values an env file would mangle (ENV_VALUE_UNSAFE)', () => {
    for (const value of ['a\nb', 'a#b', 'a"b', "a'b", 'a`b', 'a b', ' ab', 'a$b', 'a\\b', 'ab\r']) {
      expect(() => replaceEnvLines('A=1\n', { A: value })).toThrow(expect.objectContaining({ code: 'ENV_VALUE_UNSAFE' }));
    }
  });
});
