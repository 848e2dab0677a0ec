import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { isPrivateHost } from '../../src/config/private-host.js';

const config = (url: string, allowInsecureVerify?: boolean) => ({
  secrets: { jwt: { kind: 'jwt', verify: { url }, ...(allowInsecureVerify === undefined ? {} : { allowInsecureVerify }) } },
});

describe('JWT verification over plain http', () => {
  it('knows loopback, private and link-local addresses and private names', () => {
    for (const host of [
      '127.0.0.1',
      'localhost',
      '[::1]',
      '10.1.2.3',
      '172.20.0.5',
      '192.168.1.10',
      '169.254.1.1',
      'fd12::1',
      'backend',
      'api.svc.cluster.local',
      'app.internal',
    ]) {
      expect(isPrivateHost(host), host).toBe(true);
    }
    for (const host of ['8.8.8.8', '172.32.0.1', 'api.example.com', '2001:db8::1', 'example.localhost.com']) {
      expect(isPrivateHost(host), host).toBe(false);
    }
  });

  it('refuses http to a public host at config validation (exit 2) naming the config path, unless allowInsecureVerify', () => {
    let error: unknown;
    try {
      parseConfig(config('http://api.example.com/api/auth/me'), 'rotate.config.json');
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 2 });
    expect(String((error as Error).message) + String((error as { hint?: string }).hint)).toContain('secrets.jwt.verify.url');
    expect(String((error as Error).message) + String((error as { hint?: string }).hint)).toContain('allowInsecureVerify');
    expect(parseConfig(config('http://api.example.com/me', true), 'x').secrets.jwt).toMatchObject({ allowInsecureVerify: true });
    for (const url of ['https://api.example.com/me', 'http://127.0.0.1:8000/me', 'http://backend:8000/me', 'http://10.0.0.7/me']) {
      expect(() => parseConfig(config(url), 'x'), url).not.toThrow();
    }
  });
});
