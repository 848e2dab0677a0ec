// `fetch failed` says why: real failures of Node's fetch (a closed port, a name that does not resolve, a TLS
// handshake with a server that speaks plain HTTP), read from error.cause.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { fetchErrorText } from '../../src/connection/fetch-error.js';
import { freePort } from '../helpers/cli.js';

const failure = async (url: string) => {
  try {
    await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    return fetchErrorText(error);
  }
  throw new Error(`${url} answered`);
};

it('a closed port: connection refused, with the address', async () => {
  const port = await freePort();
  expect(await failure(`http://127.0.0.1:${port}/`)).toBe(`connection refused (nothing listens there) (ECONNREFUSED 127.0.0.1:${port})`);
});

it('a name that does not resolve: DNS', async () => {
  expect(await failure('http://rotate-test.invalid/')).toMatch(/^DNS: /);
});

it('https to a plain HTTP server: TLS', async () => {
  const server = createServer((_, res) => res.end('plain')).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    expect(await failure(`https://127.0.0.1:${(server.address() as AddressInfo).port}/`)).toMatch(/^TLS: |SSL|EPROTO/);
  } finally {
    server.close();
  }
});

it('a timeout, and an error without a cause', () => {
  expect(fetchErrorText(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe('no answer within the timeout');
  expect(fetchErrorText(new Error('plain'))).toBe('plain');
});
