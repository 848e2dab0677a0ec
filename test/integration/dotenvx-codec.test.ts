// The dotenvx codec against the real dotenvx CLI: files `dotenvx encrypt` wrote are read with the key dotenvx would
// use, and values rotate encrypts are read back by `dotenvx get`.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decryptEnvFile,
  detectDotenvx,
  dotenvxKeyNames,
  encryptValue,
  findPrivateKey,
  generateKeypair,
  mightBeDotenvx,
} from '../../src/envfile/dotenvx.js';
import { parseEnv, replaceEnvLines } from '../../src/envfile/edit.js';
import { RotateError } from '../../src/errors.js';
import { SecretValue } from '../../src/secret-value.js';
import { scratchDir } from '../helpers/cli.js';
import { dotenvxEncrypt, dotenvxGet } from '../helpers/dotenvx.js';

const read = (path: string) => readFileSync(path, 'utf8');
const privateKeyIn = (dir: string, name: string): string => parseEnv(read(join(dir, '.env.keys')))[name] ?? '';

async function encryptedProject(
  file = '.env',
  body = 'PORT=8000\nJWT_SECRET=old-secret-value-123\nDATABASE_URL=postgres://app:pw-456789@db/app\n',
) {
  const dir = scratchDir('rotate-dotenvx-');
  writeFileSync(join(dir, file), body);
  await dotenvxEncrypt(dir, file);
  return { dir, path: join(dir, file) };
}

async function thrown(work: Promise<unknown>): Promise<RotateError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RotateError);
  return error as RotateError;
}

describe('dotenvx key names', () => {
  it("follows the file name as dotenvx does, and the file's own public key line first", () => {
    const names = (path: string, values: Record<string, string> = {}) => dotenvxKeyNames(path, values).privateKeyName;
    expect(names('/app/.env')).toBe('DOTENV_PRIVATE_KEY');
    expect(names('/app/.env.production')).toBe('DOTENV_PRIVATE_KEY_PRODUCTION');
    expect(names('/app/.env.production.local')).toBe('DOTENV_PRIVATE_KEY_PRODUCTION_LOCAL');
    expect(names('/app/.env.ci.txt')).toBe('DOTENV_PRIVATE_KEY_CI');
    expect(names('/app/.env1')).toBe('DOTENV_PRIVATE_KEY_DEVELOPMENT1');
    expect(names('/app/.env', { DOTENV_PUBLIC_KEY_STAGING: '02ab' })).toBe('DOTENV_PRIVATE_KEY_STAGING');
  });

  it('tells a plain file from an encrypted one', () => {
    expect(detectDotenvx('/app/.env', { A: '1', B: 'encryptedish' })).toBeUndefined();
    expect(mightBeDotenvx('A=1\n')).toBe(false);
    expect(detectDotenvx('/app/.env', { A: 'encrypted:AAAA' })?.encryptedKeys).toEqual(['A']);
    expect(detectDotenvx('/app/.env.production', { DOTENV_PUBLIC_KEY_PRODUCTION: '02AB' })).toMatchObject({
      publicKey: '02ab',
      privateKeyName: 'DOTENV_PRIVATE_KEY_PRODUCTION',
      encryptedKeys: [],
    });
  });
});

describe('reading a file dotenvx encrypted', () => {
  it('decrypts with the .env.keys beside the file', async () => {
    const { path } = await encryptedProject();
    const file = detectDotenvx(path, parseEnv(read(path)));
    expect(file?.encryptedKeys).toEqual(['PORT', 'JWT_SECRET', 'DATABASE_URL']);
    const opened = await decryptEnvFile(file!, { environment: {} });
    expect(opened.values).toMatchObject({
      PORT: '8000',
      JWT_SECRET: 'old-secret-value-123',
      DATABASE_URL: 'postgres://app:pw-456789@db/app',
    });
    expect(opened.key.where).toBe(`DOTENV_PRIVATE_KEY in ${join(path, '..', '.env.keys')}`);
  });

  it('takes DOTENV_PRIVATE_KEY_<ENV> from the environment before .env.keys, for .env.production', async () => {
    const { dir, path } = await encryptedProject('.env.production');
    const key = privateKeyIn(dir, 'DOTENV_PRIVATE_KEY_PRODUCTION');
    renameSync(join(dir, '.env.keys'), join(dir, 'keys.elsewhere'));
    const file = detectDotenvx(path, parseEnv(read(path)))!;
    expect(file.publicKeyName).toBe('DOTENV_PUBLIC_KEY_PRODUCTION');
    const opened = await decryptEnvFile(file, { environment: { DOTENV_PRIVATE_KEY_PRODUCTION: key } });
    expect(opened.values.JWT_SECRET).toBe('old-secret-value-123');
    expect(opened.key.where).toBe('DOTENV_PRIVATE_KEY_PRODUCTION in the environment');
  });

  it('skips a key of another file (comma lists too) and finds the one that belongs to this file', async () => {
    const { dir, path } = await encryptedProject();
    const other = await generateKeypair();
    const key = privateKeyIn(dir, 'DOTENV_PRIVATE_KEY');
    const file = detectDotenvx(path, parseEnv(read(path)))!;
    const found = await findPrivateKey(file, { environment: { DOTENV_PRIVATE_KEY: `${other.privateKey.reveal()},${key}` } });
    expect(found.key.reveal()).toBe(key);
  });

  it('refuses without a key, with a key of another file, and with a damaged value, never printing a key or value', async () => {
    const { dir, path } = await encryptedProject();
    const key = privateKeyIn(dir, 'DOTENV_PRIVATE_KEY');
    renameSync(join(dir, '.env.keys'), join(dir, 'keys.elsewhere'));
    const file = detectDotenvx(path, parseEnv(read(path)))!;

    const missing = await thrown(decryptEnvFile(file, { environment: {} }));
    expect(missing.code).toBe('DOTENVX_KEY_MISSING');
    expect(missing.message).toContain(path);
    expect(missing.message).toContain('DOTENV_PRIVATE_KEY');
    expect(missing.hint).toContain('.env.keys');

    const other = await generateKeypair();
    const wrong = await thrown(decryptEnvFile(file, { environment: { DOTENV_PRIVATE_KEY: other.privateKey.reveal() } }));
    expect(wrong.code).toBe('DOTENVX_KEY_WRONG');
    expect(wrong.message).toContain('DOTENV_PRIVATE_KEY in the environment');

    // A value encrypted to another key, and one whose ciphertext was cut short.
    const raw = parseEnv(read(path));
    const foreign = await encryptValue(other.publicKey, new SecretValue('foreign-value-1'));
    for (const [damaged, value] of [
      ['JWT_SECRET', foreign],
      ['PORT', (raw.PORT ?? '').slice(0, 40)],
    ] as const) {
      const error = await thrown(
        decryptEnvFile(detectDotenvx(path, { ...raw, [damaged]: value })!, { environment: { DOTENV_PRIVATE_KEY: key } }),
      );
      expect(error.code).toBe('DOTENVX_VALUE_MALFORMED');
      expect(error.message).toContain(damaged);
    }

    for (const error of [missing, wrong]) {
      for (const secret of [key, other.privateKey.reveal(), 'old-secret-value-123']) {
        expect(`${error.message} ${error.hint}`).not.toContain(secret);
      }
    }
  });
});

describe('writing values dotenvx reads back', () => {
  it('encrypts a new value to the file public key: dotenvx get decrypts it, every other byte is unchanged', async () => {
    const { dir, path } = await encryptedProject('.env.production');
    const before = read(path);
    const file = detectDotenvx(path, parseEnv(before))!;
    const encrypted = await encryptValue(file.publicKey!, new SecretValue('new-secret-value-789'));
    expect(encrypted).toMatch(/^encrypted:[A-Za-z0-9+/]+=*$/);
    const after = replaceEnvLines(before, {
      JWT_SECRET: encrypted,
      JWT_SECRET_PREVIOUS: await encryptValue(file.publicKey!, new SecretValue('old-secret-value-123')),
    });
    writeFileSync(path, after);
    expect(after).not.toContain('new-secret-value-789');
    expect(after).not.toContain(Buffer.from('new-secret-value-789').toString('base64'));
    const lines = (t: string) => t.split('\n').filter((l) => !l.startsWith('JWT_SECRET'));
    expect(lines(after)).toEqual(lines(before));

    const got = await dotenvxGet(dir, '.env.production');
    expect(got).toMatchObject({ JWT_SECRET: 'new-secret-value-789', JWT_SECRET_PREVIOUS: 'old-secret-value-123', PORT: '8000' });
  });

  it('a generated keypair is one dotenvx uses', async () => {
    const dir = scratchDir('rotate-dotenvx-');
    const pair = await generateKeypair();
    expect(pair.publicKey).toMatch(/^0[23][0-9a-f]{64}$/);
    expect(pair.privateKey.reveal()).toMatch(/^[0-9a-f]{64}$/);
    writeFileSync(
      join(dir, '.env'),
      `DOTENV_PUBLIC_KEY="${pair.publicKey}"\nJWT_SECRET=${await encryptValue(pair.publicKey, new SecretValue('fresh-value-4242'))}\n`,
    );
    expect(await dotenvxGet(dir, '.env', { DOTENV_PRIVATE_KEY: pair.privateKey.reveal() })).toMatchObject({
      JWT_SECRET: 'fresh-value-4242',
    });
  });
});
