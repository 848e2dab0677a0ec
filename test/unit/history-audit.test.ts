import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendChained, canonicalJson, fingerprint, verifyChain } from '../../src/history/audit.js';
import { FileStore } from '../../src/store/file.js';
import type { HistoryEntry } from '../../src/store/types.js';

const holder = { pid: process.pid, host: hostname() };

const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function store(masterKey = randomBytes(32).toString('hex')) {
  const dir = await mkdtemp(join(tmpdir(), 'rotate-audit-'));
  folders.push(dir);
  return { dir, masterKey, store: new FileStore({ dir, masterKey, holder, warn: () => {} }) };
}

const entry = (secret: string, at: string, extra: Partial<HistoryEntry> = {}): HistoryEntry => ({
  at,
  runId: `run-${secret}-${at}`,
  secret,
  kind: 'jwt',
  action: 'rotate',
  result: 'rotated',
  actor: 'ops@host',
  facts: { z: 1, a: { y: [1, 'two'], b: null } },
  ...extra,
});

const lines = async (dir: string) => (await readFile(join(dir, 'history.jsonl'), 'utf8')).trimEnd().split('\n');
const writeLines = (dir: string, text: string[]) => writeFile(join(dir, 'history.jsonl'), `${text.join('\n')}\n`);

describe('keyed fingerprints', () => {
  it('are 12 hex digits, the same across store instances with one key, different under another key', async () => {
    const { dir, masterKey, store: first } = await store();
    const value = randomBytes(24).toString('base64url');
    const print = await fingerprint(first, value);
    expect(print).toMatch(/^[0-9a-f]{12}$/);
    expect(await fingerprint(new FileStore({ dir, masterKey, holder, warn: () => {} }), value)).toBe(print);
    expect(await fingerprint((await store()).store, value)).not.toBe(print);
    expect(await fingerprint(first, `${value}.`)).not.toBe(print);
    expect(await fingerprint(first, undefined)).toBeNull();
  });
});

describe('the history chain', () => {
  it('verifies an untouched history and survives key reordering (a jsonb round trip)', async () => {
    const { dir, store: s } = await store();
    for (const [i, secret] of ['jwt', 'redis', 'database'].entries())
      await appendChained(s, entry(secret, `2026-01-0${i + 1}T00:00:00.000Z`));
    expect(await verifyChain(s, await s.readHistory())).toMatchObject({ ok: true, checked: 3, unchained: 0 });
    // Same records, keys in another order: what PostgreSQL's jsonb hands back.
    const reordered = (await lines(dir)).map((line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify(Object.fromEntries(Object.entries(record).reverse()));
    });
    await writeLines(dir, reordered);
    expect((await verifyChain(s, await s.readHistory())).ok).toBe(true);
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] })).toBe('{"a":[{"d":2}],"b":1}');
  });

  it.each([
    ['an edited field', (text: string[]) => [text[0]!, text[1]!.replace('"rotated"', '"failed"'), text[2]!], 2],
    ['a removed record', (text: string[]) => [text[0]!, text[2]!], 2],
    ['two records swapped', (text: string[]) => [text[1]!, text[0]!, text[2]!], 1],
    [
      'an inserted unchained record',
      (text: string[]) => [text[0]!, JSON.stringify(entry('stripe', '2026-01-01T12:00:00.000Z')), text[1]!, text[2]!],
      2,
    ],
    ['a removed link', (text: string[]) => [text[0]!, text[1]!, text[2]!.replace(/,"chain":"[0-9a-f]+"/, '')], 3],
  ])('names the first broken record after %s', async (_what, edit, position) => {
    const { dir, store: s } = await store();
    for (const [i, secret] of ['jwt', 'redis', 'database'].entries())
      await appendChained(s, entry(secret, `2026-01-0${i + 1}T00:00:00.000Z`));
    await writeLines(dir, edit(await lines(dir)));
    const report = await verifyChain(s, await s.readHistory());
    expect(report.ok).toBe(false);
    expect(report.broken?.position).toBe(position);
  });

  it('a record re-chained without the master key does not pass', async () => {
    const { dir, store: s } = await store();
    await appendChained(s, entry('jwt', '2026-01-01T00:00:00.000Z'));
    const { chain: _, ...original } = JSON.parse((await lines(dir))[0]!) as HistoryEntry;
    // Someone with write access but another key edits the record and computes a fresh link for it.
    const forger = await store();
    const forged = await appendChained(forger.store, { ...original, result: 'failed' });
    await writeLines(dir, [JSON.stringify(forged)]);
    expect(await verifyChain(forger.store, await s.readHistory())).toMatchObject({ ok: true });
    expect(await verifyChain(s, await s.readHistory())).toMatchObject({ ok: false, broken: { position: 1 } });
  });

  it('counts records written before the chain existed and checks everything after them', async () => {
    const { dir, store: s } = await store();
    await writeLines(dir, [JSON.stringify(entry('jwt', '2025-01-01T00:00:00.000Z'))]);
    await appendChained(s, entry('redis', '2026-01-01T00:00:00.000Z'));
    expect(await verifyChain(s, await s.readHistory())).toMatchObject({ ok: true, unchained: 1, checked: 1 });
  });
});
