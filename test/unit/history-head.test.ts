import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendChained, runsWithoutRecord, verifyChain } from '../../src/history/audit.js';
import { historyNotice } from '../../src/notify/history-notice.js';
import { FileStore } from '../../src/store/file.js';
import type { HistoryEntry } from '../../src/store/types.js';

// #22 item 8: the chain alone cannot see records removed from the end, nor links stripped from every record. The
// history's head (sequence number and last link, under an HMAC) and each secret's last run id in its state can.

const holder = { pid: process.pid, host: hostname() };
const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function chainedStore(records = 3) {
  const dir = await mkdtemp(join(tmpdir(), 'rotate-head-'));
  folders.push(dir);
  const masterKey = randomBytes(32).toString('hex');
  const store = new FileStore({ dir, masterKey, holder, warn: () => {} });
  for (let i = 0; i < records; i++) {
    const entry = record(`secret-${i}`, `run-${i}`);
    await appendChained(store, entry);
    await store.writeState(entry.secret, { lastRotatedAt: entry.at, lastRunId: entry.runId });
  }
  const path = join(dir, 'history.jsonl');
  const lines = async () => (await readFile(path, 'utf8')).trimEnd().split('\n');
  const write = (text: string[]) => writeFile(path, text.length ? `${text.join('\n')}\n` : '');
  const check = async () => {
    const [{ entries }, head, states, journals] = await Promise.all([
      store.readHistoryReport(),
      store.readHistoryHead(),
      store.readStates(),
      store.readJournals(),
    ]);
    return { chain: await verifyChain(store, entries, { head }), lost: runsWithoutRecord(states, journals, entries) };
  };
  return { dir, store, lines, write, check, masterKey };
}

const record = (secret: string, runId: string): HistoryEntry => ({
  at: new Date().toISOString(),
  runId,
  secret,
  kind: 'jwt',
  action: 'rotate',
  result: 'rotated',
  actor: 'ops@host',
});

describe('history --verify sees what was removed', () => {
  it('an untouched history passes and ends at its head', async () => {
    const { check } = await chainedStore();
    const { chain, lost } = await check();
    expect(chain).toMatchObject({ ok: true, checked: 3, head: { seq: 3 } });
    expect(lost).toEqual([]);
  });

  it('a tail cut off (the newest record deleted) is refused: the head says 3, the history holds 2', async () => {
    const { lines, write, check } = await chainedStore();
    await write((await lines()).slice(0, -1));
    const { chain, lost } = await check();
    expect(chain.ok).toBe(false);
    expect(chain.missing).toContain('1 record(s) were removed: the head says 3 chained record(s), the history holds 2');
    expect(lost).toEqual([{ secret: 'secret-2', runId: 'run-2' }]);
  });

  it('every chain link stripped is refused: not "written before chaining" once a head exists', async () => {
    const { lines, write, check } = await chainedStore();
    await write((await lines()).map((line) => JSON.stringify({ ...JSON.parse(line), chain: undefined })));
    const { chain } = await check();
    expect(chain.ok).toBe(false);
    expect(chain.missing).toContain('every chain link was stripped');
  });

  it('a deleted head and an edited head are refused; with both the tail and the head gone, the states show it', async () => {
    const { dir, check } = await chainedStore();
    const headPath = join(dir, 'history-head.json');
    const head = JSON.parse(await readFile(headPath, 'utf8'));
    await writeFile(headPath, JSON.stringify({ ...head, seq: 2 }));
    expect((await check()).chain.missing).toContain('MAC does not match');
    await rm(headPath);
    expect((await check()).chain.missing).toContain('the history head is missing');
    // The tail and the head both gone: each secret's state still names its last run.
    const other = await chainedStore(2);
    await other.write((await other.lines()).slice(0, 1));
    await rm(join(other.dir, 'history-head.json'));
    expect((await other.check()).lost).toEqual([{ secret: 'secret-1', runId: 'run-1' }]);
  });

  it('a chain begun before the head existed: refused with the fix, accepted explicitly, and headed by the next record', async () => {
    const { dir, store, check, lines, write } = await chainedStore();
    // What a store last written by a rotate from before the head looks like: chained records, no head.
    await rm(join(dir, 'history-head.json'));
    const refused = (await check()).chain;
    expect(refused.ok).toBe(false);
    expect(refused.missing).toContain('began before rotate kept a head');
    expect(refused.missing).toContain('rotate history --verify --accept-no-head');
    expect(refused.missing).toContain('#3, link');
    const [{ entries }] = await Promise.all([store.readHistoryReport()]);
    const accepted = await verifyChain(store, entries, { head: undefined, acceptNoHead: true });
    expect(accepted).toMatchObject({ ok: true, noHead: true, checked: 3 });
    expect(accepted.head).toBeUndefined();
    // Accepting the missing head accepts nothing else: an edited record still breaks the chain.
    const text = await lines();
    await write([text[0]!, text[1]!.replace('secret-1', 'secret-x'), text[2]!]);
    const edited = await verifyChain(store, (await store.readHistoryReport()).entries, { head: undefined, acceptNoHead: true });
    expect(edited.ok).toBe(false);
    await write(text);
    // The next record starts the head (and says so); from then on the plain check passes.
    const warnings: string[] = [];
    await appendChained(store, record('secret-3', 'run-3'), (m) => warnings.push(m));
    expect(warnings.join('\n')).toContain('the history had no head');
    expect((await check()).chain).toMatchObject({ ok: true, head: { seq: 4 } });
  });

  it('a run appended after the tail was cut links to the head, so the gap stays visible after later runs', async () => {
    const { lines, write, check, store } = await chainedStore();
    await write((await lines()).slice(0, -1));
    const warnings: string[] = [];
    await appendChained(store, record('secret-9', 'run-9'), (m) => warnings.push(m));
    expect(warnings.join('\n')).toContain('the history does not end where its head says');
    const { chain } = await check();
    expect(chain.ok).toBe(false);
    expect(chain.missing).toContain('the head says 4 chained record(s), the history holds 3');
  });

  it('records before the first chained one pass as written before chaining only while no head exists', async () => {
    const { lines, write, check } = await chainedStore(0);
    await write([JSON.stringify(record('legacy', 'run-old'))]);
    expect((await check()).chain).toMatchObject({ ok: true, unchained: 1, checked: 0 });
    expect(await lines()).toHaveLength(1);
  });

  it('a crash between the record and the head write (head one behind) still verifies: the chain covers the rest', async () => {
    const { dir, store, check } = await chainedStore(2);
    const before = await readFile(join(dir, 'history-head.json'), 'utf8');
    await appendChained(store, record('secret-2', 'run-2'));
    await writeFile(join(dir, 'history-head.json'), before);
    expect((await check()).chain).toMatchObject({ ok: true, checked: 3 });
  });

  it('notifications carry the sequence number and the last link, in the text the chat keeps', async () => {
    const { store } = await chainedStore(2);
    const head = (await store.readHistoryHead())!;
    const notice = historyNotice(record('jwt', 'run-x'), 'rotated', 'app-1', head)!;
    expect(notice.text).toContain(`[history #2, link ${head.link.slice(0, 12)}]`);
    expect(notice.history).toEqual({ seq: 2, link: head.link });
  });
});
