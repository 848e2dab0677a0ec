#!/usr/bin/env node
// npm run bench:replicas: requests that fail while `rotate jwt` restarts the stand-in app, for one process restarted
// in place and for two replicas restarted one at a time (services.<n>.instances).
//
// Clients send GET /healthz in a loop (8 at a time, a new connection each) through a tiny round-robin proxy, as a
// load balancer in front of the app would: a backend that refuses a connection is tried last for 1 s and the request
// goes to the next one (nginx's proxy_next_upstream, HAProxy's redispatch). With one backend there is no next one,
// so the proxy only forwards. A request fails when the client gets no 2xx.
// Usage: node scripts/bench-replicas.mjs [rotations per scenario, default 3]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, createServer as httpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist/bin/rotate.js');
const restartScript = join(root, 'test/app/restart.mjs');
const rotations = Number(process.argv[2] ?? 3);
const CLIENTS = 8;

const freePort = () =>
  new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });

/** Round-robin over the backends; a refused connection marks its backend down for 1 s and tries the next. */
function startProxy(ports) {
  let next = 0;
  const downUntil = new Map();
  const forward = (req, res, tried) => {
    // Backends marked down are tried last, not never: one may be back before its mark ends, and the others gone.
    const now = Date.now();
    const untried = ports.filter((port) => !tried.has(port));
    const up = untried.filter((port) => !(downUntil.get(port) > now));
    const candidates = up.length ? up : untried;
    const port = candidates.length ? candidates[next++ % candidates.length] : undefined;
    if (port === undefined) {
      res.writeHead(502).end();
      return;
    }
    tried.add(port);
    const upstream = httpRequest({ host: '127.0.0.1', port, path: req.url, method: req.method, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (res.headersSent) return res.destroy();
      downUntil.set(port, Date.now() + 1000);
      forward(req, res, tried);
    });
    upstream.end();
  };
  const server = httpServer((req, res) => forward(req, res, new Set()));
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

/** CLIENTS loops of GET through the proxy until stopped: [sent, failed]. */
function load(port) {
  let stopped = false;
  let sent = 0;
  let failed = 0;
  const once = () =>
    new Promise((done) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode >= 200 && res.statusCode < 300));
      });
      req.on('error', () => done(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  const loops = Array.from({ length: CLIENTS }, async () => {
    while (!stopped) {
      sent++;
      if (!(await once())) failed++;
    }
  });
  return async () => {
    stopped = true;
    await Promise.all(loops);
    return { sent, failed };
  };
}

async function scenario(label, replicas) {
  const dir = mkdtempSync(join(tmpdir(), 'rotate-bench-replicas-'));
  writeFileSync(join(dir, '.env'), `APP_ENV=production\nJWT_SECRET=${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  const ports = [];
  for (let i = 0; i < replicas; i++) ports.push(await freePort());
  const restartOf = (i) => `node ${restartScript} --env-file .env --port ${ports[i]} --pid-file app${i + 1}.pid --log app${i + 1}.log`;
  const instances = ports.map((port, i) => ({ restart: restartOf(i), health: { url: `http://127.0.0.1:${port}/healthz` } }));
  const backend = replicas === 1 ? instances[0] : { instances };
  writeFileSync(
    join(dir, 'rotate.config.json'),
    JSON.stringify({ services: { backend }, secrets: { jwt: { kind: 'jwt', services: ['backend'] } } }),
  );
  for (let i = 0; i < replicas; i++) execFileSync('/bin/sh', ['-c', restartOf(i)], { cwd: dir });
  const proxy = await startProxy(ports);
  const env = { ...process.env, ROTATE_MASTER_KEY: randomBytes(32).toString('hex'), NO_COLOR: '1' };
  const stop = load(proxy.address().port);
  const started = Date.now();
  for (let r = 0; r < rotations; r++) {
    const child = spawn(process.execPath, [cli, 'jwt', '--yes', '--quiet'], { cwd: dir, env, stdio: 'inherit' });
    const code = await new Promise((done) => child.on('close', done));
    if (code !== 0) throw new Error(`${label}: rotate jwt exited ${code}`);
  }
  const { sent, failed } = await stop();
  const seconds = (Date.now() - started) / 1000;
  proxy.close();
  for (let i = 0; i < replicas; i++) {
    const pidFile = join(dir, `app${i + 1}.pid`);
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return { label, sent, failed, seconds };
}

const results = [await scenario('single restart', 1), await scenario('2 replicas, one at a time', 2)];
console.log(`${rotations} rotations of jwt per scenario, ${CLIENTS} clients through a round-robin proxy`);
for (const { label, sent, failed, seconds } of results) {
  console.log(
    `${label.padEnd(28)} ${String(failed).padStart(5)} failed of ${String(sent).padStart(6)} requests in ${seconds.toFixed(1)} s`,
  );
}
