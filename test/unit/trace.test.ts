// The pieces of --verbose that decide what a trace line may show: URLs, commands, timings, and that it is off by default.
import { afterEach, describe, expect, it } from 'vitest';
import { checkCount, safeCommand, safeUrl, setTraceSink, timed, trace, traced, tracedAs, tracedFetch, tracing } from '../../src/trace.js';

const lines: string[] = [];
afterEach(() => {
  setTraceSink(undefined);
  lines.length = 0;
});
const start = () => setTraceSink((line) => lines.push(line));

describe('safeUrl', () => {
  it('drops the userinfo, blanks every query value and the fragment, keeps scheme, host, port and path', () => {
    expect(safeUrl('https://user:p%40ss@api.example.com:8443/health/ready?token=s3cr3t&x=1#frag')).toBe(
      'https://api.example.com:8443/health/ready?token=[redacted]&x=[redacted]#[redacted]',
    );
    expect(safeUrl('redis://:pw@cache:6379/0')).toBe('redis://cache:6379/0');
    expect(safeUrl('not a url with s3cr3t')).toBe('(not a URL)');
  });
});

describe('safeCommand', () => {
  it('blanks credentials written out in a command, keeps $REFERENCES the shell expands in the child', () => {
    expect(safeCommand('API_TOKEN=abc123 deploy --password hunter22 --token=t0k3n --key "a b" run')).toBe(
      'API_TOKEN=[redacted] deploy --password [redacted] --token=[redacted] --key [redacted] run',
    );
    expect(safeCommand('curl -fsS https://admin:hunter22@ci.example.com/hook')).toBe('curl -fsS https://[redacted]@ci.example.com/hook');
    expect(safeCommand('psql --password=$PGPASSWORD && DB_PASSWORD=$DB_PASSWORD ./restart.sh')).toBe(
      'psql --password=$PGPASSWORD && DB_PASSWORD=$DB_PASSWORD ./restart.sh',
    );
    expect(safeCommand('docker compose up -d --force-recreate backend')).toBe('docker compose up -d --force-recreate backend');
    expect(safeCommand('curl -u deploy:hunter22 -H "Authorization: Bearer abc.def" https://ops:p@ss@ci.example.com/x')).toBe(
      'curl -u [redacted] -H "Authorization: [redacted]" https://[redacted]@ci.example.com/x',
    );
    expect(safeCommand('docker run -p 8080:80 app')).toBe('docker run -p 8080:80 app');
  });
});

describe('trace', () => {
  it('is off until a sink is set: nothing is written and work runs as is', async () => {
    expect(tracing()).toBe(false);
    trace('never');
    expect(await traced('step', async () => 7)).toBe(7);
    expect(lines).toEqual([]);
  });

  it('stamps every line with the time since start; traced says when a step starts and how long it took', async () => {
    start();
    await traced(
      'engine: apply jwt',
      async () => 'x',
      () => 'fine',
    );
    await expect(timed('redis: AUTH', () => Promise.reject(Object.assign(new Error('no'), { code: 'WRONGPASS' })))).rejects.toThrow();
    expect(lines[0]).toMatch(/^\[\+\d+ms\] engine: apply jwt \.\.\.$/);
    expect(lines[1]).toMatch(/^\[\+\d+ms\] engine: apply jwt: done in \d+ ms \(fine\)$/);
    expect(lines[2]).toMatch(/^\[\+\d+ms\] redis: AUTH: failed after \d+ ms \(WRONGPASS\)$/);
  });

  it('traces fetch with method, safe URL and status; a webhook traced by name shows its host only', async () => {
    start();
    const fake = (async () => new Response(null, { status: 204 })) as unknown as typeof fetch;
    await tracedFetch(fake)('https://u:pw@app.example.com/me?sig=abc', { method: 'POST' });
    await tracedFetch(fake)('https://hooks.example.com/services/T0/B0/SECRETPATH', tracedAs('notify.webhookUrl', { method: 'POST' }));
    expect(lines[0]).toMatch(/http: POST https:\/\/app\.example\.com\/me\?sig=\[redacted\]: done in \d+ ms \(HTTP 204\)$/);
    expect(lines[1]).toMatch(/http: POST notify\.webhookUrl \(hooks\.example\.com\): done in \d+ ms \(HTTP 204\)$/);
    expect(lines.join('\n')).not.toContain('SECRETPATH');
  });

  it('a poll repeating one line writes it once, then how many more times, before the next line', () => {
    start();
    for (let i = 0; i < 4; i++) trace(`http: GET http://app/healthz: failed after ${i} ms (ECONNREFUSED)`);
    trace('http: GET http://app/healthz: done in 3 ms (HTTP 200)');
    expect(lines.map((line) => line.replace(/^\[\+\d+ms\] /, ''))).toEqual([
      'http: GET http://app/healthz: failed after 0 ms (ECONNREFUSED)',
      '(the line above 3 more times)',
      'http: GET http://app/healthz: done in 3 ms (HTTP 200)',
    ]);
  });

  it('counts checks and names the failing ones', () => {
    expect(checkCount([{ id: 'env-key-present', name: 'a', ok: true }])).toBe('1 check passed');
    expect(
      checkCount([
        { id: 'env-key-present', name: 'a', ok: true },
        { id: 'env-key-present', name: 'b', ok: false },
      ]),
    ).toBe('1 of 2 checks passed; failed: b');
  });
});
