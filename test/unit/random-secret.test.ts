// The random kind: values of the asked length in the asked alphabet, drawn without bias, and a config that refuses
// to treat a key that encrypts stored data as a random value.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { defaultLength, randomText } from '../../src/secrets/random/generate.js';

const SHAPES = { base64url: /^[A-Za-z0-9_-]+$/, hex: /^[0-9a-f]+$/, alphanumeric: /^[A-Za-z0-9]+$/ } as const;

describe('random values', () => {
  it('have the asked length and only characters of the alphabet, 32 bytes by default', () => {
    for (const alphabet of ['base64url', 'hex', 'alphanumeric'] as const) {
      for (const length of [16, 17, 43, 64, 101]) {
        const text = randomText(randomBytes, alphabet, length);
        expect(text).toHaveLength(length);
        expect(text).toMatch(SHAPES[alphabet]);
      }
    }
    expect([defaultLength('base64url'), defaultLength('hex'), defaultLength('alphanumeric')]).toEqual([43, 64, 43]);
  });

  it('draw alphanumeric characters by rejection, never by folding a byte with %', () => {
    // Bytes 248..255 would fold onto 'A'..'H' under `% 62`: they must be skipped, the next byte used.
    const bytes = [248, 255, 0, 252, 61, 62];
    let at = 0;
    const fixed = (size: number) => Buffer.from(Array.from({ length: size }, () => bytes[at++ % bytes.length]!));
    expect(randomText(fixed, 'alphanumeric', 3)).toBe('A9A');

    // Over many draws every character comes up about equally often (a `%` shortcut favours the first 8 by 25%).
    const counts = new Map<string, number>();
    const text = randomText(randomBytes, 'alphanumeric', 62 * 2000);
    for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const count of counts.values()) expect(Math.abs(count - 2000)).toBeLessThan(250);
  });
});

describe('a random secret named WALLET_ENCRYPTION_KEY', () => {
  it('is refused at config check (exit 2, its config path), pointing to the exchange-key kind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotate-random-'));
    writeFileSync(
      join(dir, 'rotate.config.json'),
      JSON.stringify({ secrets: { wallet: { kind: 'random', env: 'WALLET_ENCRYPTION_KEY', services: ['backend'] } } }),
    );
    const error = await loadConfig({ cwd: dir }).then(
      () => undefined,
      (caught: Error & { code?: string; exitCode?: number }) => caught,
    );
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 2 });
    expect(error!.message).toContain('secrets.wallet.env');
    expect(error!.message).toContain('encrypts stored data');
    expect(error!.message).toContain('exchange-key');
  });
});
