#!/usr/bin/env node
// npm run demo: a real JWT rotation with the embedded store, against the stand-in app, in a scratch folder.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = resolve(import.meta.dirname, '..');
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

let code = 0;
try {
  rotate('status');
  code = rotate('--dry-run', 'jwt') || code;
  code = rotate('jwt', '--yes') || code;
  rotate('status');
  rotate('history');
  say('diff of .env (values hidden)');
  const after = readFileSync(join(dir, '.env'), 'utf8');
  process.stdout.write(
    after
      .split('\n')
      .map((line) => (line.startsWith('JWT_SECRET=') ? `JWT_SECRET=<new ${line.length - 11} characters, was ${oldSecret.length}>` : line))
      .join('\n'),
  );
} finally {
  try {
    process.kill(Number(readFileSync(join(dir, 'app.pid'), 'utf8')), 'SIGTERM');
  } catch {}
}
process.stdout.write(`\nThe store is in ${join(dir, '.rotate')} (history, encrypted backups, master key).\n`);
process.exit(code);
