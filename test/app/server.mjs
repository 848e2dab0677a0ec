#!/usr/bin/env node
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
// The stand-in app: a small HTTP server that consumes its secrets the way the platform does (PLATFORM.md).
// It reads its env file ONCE at start, like the platform, so only a restart picks up new values.
// Usage: node test/app/server.mjs --env-file <path> --port <n> [--pid-file <path>]
//        node test/app/server.mjs --env-from-process ... (the values come in the environment: `dotenvx run -- ...`)
// Each file in ./routes/ exports `setup(env)` returning { routes: { 'GET /path': handler }, close? };
// setup may throw to refuse to start (as the platform does when Redis rejects its password).
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import dotenv from 'dotenv';

const { values: args } = parseArgs({
  options: {
    'env-file': { type: 'string' },
    'env-from-process': { type: 'boolean' },
    port: { type: 'string' },
    'pid-file': { type: 'string' },
  },
});
const env = args['env-from-process'] ? { ...process.env } : dotenv.parse(readFileSync(args['env-file'] ?? '.env'));
const port = Number(args.port ?? 8000);

const here = dirname(fileURLToPath(import.meta.url));
const routes = new Map();
const closers = [];
for (const file of readdirSync(join(here, 'routes'))
  .filter((f) => f.endsWith('.mjs'))
  .sort()) {
  const mod = await import(pathToFileURL(join(here, 'routes', file)).href);
  const part = await mod.setup(env);
  for (const [key, handler] of Object.entries(part.routes ?? {})) routes.set(key, handler);
  if (part.close) closers.push(part.close);
}
routes.set('GET /healthz', () => ({ status: 200, body: { status: 'ok' } }));

const server = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const handler = routes.get(`${req.method} ${path}`);
  let out;
  try {
    out = handler ? await handler({ req, raw, env }) : { status: 404, body: { detail: 'not found' } };
  } catch (error) {
    out = { status: 500, body: { detail: String(error?.message ?? error) } };
  }
  res.writeHead(out.status, { 'content-type': 'application/json', ...(out.headers ?? {}) });
  res.end(JSON.stringify(out.body ?? {}));
});

server.listen(port, '127.0.0.1', () => {
  if (args['pid-file']) writeFileSync(args['pid-file'], String(process.pid));
  // The argv goes to the log so tests can check no secret ever reached a child's command line.
  process.stdout.write(`stand-in app listening on 127.0.0.1:${port}; argv: ${process.argv.join(' ')}\n`);
  // Started by restart.mjs: tell it, then let go of the channel (it exits after).
  if (process.connected) process.send('listening', () => process.connected && process.disconnect());
});

const stop = async () => {
  server.close();
  server.closeAllConnections();
  for (const close of closers) await close();
  if (args['pid-file']) rmSync(args['pid-file'], { force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
