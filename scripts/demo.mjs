#!/usr/bin/env node
// npm run demo: a real JWT rotation with the embedded store, against the stand-in app, in a scratch folder.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = resolve(import.meta.dirname, '..');
// Built by `npm run demo` (npm run build first): the fingerprint and the store rotate itself uses.
const { fingerprint } = await import(join(root, 'dist/history/audit.js'));
const { FileStore } = await import(join(root, 'dist/store/file.js'));
const cli = join(root, 'dist/bin/rotate.js');
const dir = mkdtempSync(join(tmpdir(), 'rotate-demo-'));
const port = await new Promise((done) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => done(port));
  });
});

const oldSecret = randomBytes(24).toString('base64url');
writeFileSync(
  join(dir, '.env'),
  [
    '# The stand-in app reads this file once at start, like the platform.',
    'APP_ENV=production',
    '',
    '# HS256 signing secret for access and refresh tokens',
    `JWT_SECRET=${oldSecret}`,
    'JWT_ACCESS_TOKEN_MINUTES=15',
    '',
  ].join('\n'),
);
chmodSync(join(dir, '.env'), 0o600);

const restart = `node ${join(root, 'test/app/restart.mjs')} --env-file .env --port ${port} --pid-file app.pid --log app.log`;
writeFileSync(
  join(dir, 'rotate.config.json'),
  `${JSON.stringify(
    {
      services: { backend: { restart, health: { url: `http://127.0.0.1:${port}/healthz`, timeoutSeconds: 20 } } },
      secrets: {
        jwt: { kind: 'jwt', services: ['backend'], verify: { url: `http://127.0.0.1:${port}/api/auth/me`, claims: { id: '1' } } },
      },
    },
    null,
    2,
  )}\n`,
);

// Headings in bold only on a terminal and without NO_COLOR, as rotate's own colour.
const bold = process.stdout.isTTY && !process.env.NO_COLOR ? (text) => `\x1b[1m${text}\x1b[0m` : (text) => text;
const say = (text) => process.stdout.write(`\n${bold(`$ ${text}`)}\n`);
const rotate = (...args) => {
  say(`rotate ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: dir, stdio: 'inherit' });
  return result.status;
};

process.stdout.write(`demo folder: ${dir}\n`);
execFileSync('/bin/sh', ['-c', restart], { cwd: dir });
for (let i = 0; i < 50; i++) {
  try {
    if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
  } catch {}
  await sleep(100);
}

/**
 * A value as the diff shows it: masked, with its fingerprint in the one form `rotate history` prints (the first 12 hex
 * digits of an HMAC-SHA256 under a key derived from the store's master key: src/history/audit.ts), so the diff's old and
 * new fingerprints are the ones the history shows for the run.
 */
const SECRET_KEY = /^(\s*(?:export\s+)?)([A-Z0-9_]*(?:SECRET|KEY|PASSWORD|TOKEN|URL)(?:_PREVIOUS)?)=(.*)$/;
async function maskText(text, store) {
  const lines = [];
  for (const line of text.split('\n')) {
    const match = SECRET_KEY.exec(line);
    if (!match) {
      lines.push(line);
      continue;
    }
    const [, lead, key, value] = match;
    lines.push(`${lead}${key}=${value ? `****… (fingerprint ${await fingerprint(store, value)})` : ''}`);
  }
  return lines.join('\n');
}

/** A real unified diff of the env file before and after, every secret-like value masked on both sides. */
async function maskedDiff(beforeText, afterText) {
  // The demo's own store (.rotate beside the config): the key the history's fingerprints are made with.
  const store = new FileStore({
    dir: join(dir, '.rotate'),
    masterKey: process.env.ROTATE_MASTER_KEY || undefined,
    holder: { pid: process.pid, host: 'demo' },
    warn: () => {},
  });
  const scratch = mkdtempSync(join(tmpdir(), 'rotate-demo-diff-'));
  writeFileSync(join(scratch, 'before'), await maskText(beforeText, store), { mode: 0o600 });
  writeFileSync(join(scratch, 'after'), await maskText(afterText, store), { mode: 0o600 });
  const diff = spawnSync('diff', ['-u', '--label', '.env (before)', '--label', '.env (after)', 'before', 'after'], {
    cwd: scratch,
    encoding: 'utf8',
  });
  rmSync(scratch, { recursive: true, force: true });
  if (diff.error) return `(diff is not installed: ${diff.error.message})\n`;
  return diff.stdout || '(no change)\n';
}

let code = 0;
const before = readFileSync(join(dir, '.env'), 'utf8');
try {
  rotate('status');
  code = rotate('--dry-run', 'jwt') || code;
  code = rotate('jwt', '--yes') || code;
  rotate('status');
  rotate('history');
  say('diff -u .env (values masked)');
  process.stdout.write(await maskedDiff(before, readFileSync(join(dir, '.env'), 'utf8')));
} finally {
  try {
    process.kill(Number(readFileSync(join(dir, 'app.pid'), 'utf8')), 'SIGTERM');
  } catch {}
}
process.stdout.write(`\nThe store is in ${join(dir, '.rotate')} (history, encrypted backups, master key).\n`);
process.exit(code);
