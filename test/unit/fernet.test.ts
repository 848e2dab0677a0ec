// Fernet and the platform's key derivation: spec vectors, PLATFORM.md's known answers, the worker copy held to the
// same answers, and Python's `cryptography` as the reference for everything in between.
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoPool } from '../../src/secrets/exchange-key/crypto-pool.js';
import {
  base64urlPadded,
  decodeLikePython,
  deriveFernetKey,
  deriveFernetKeyText,
  FernetKey,
  fernetDecrypt,
  fernetEncrypt,
} from '../../src/secrets/exchange-key/fernet.js';

// github.com/fernet/spec generate.json / verify.json
const SPEC = {
  secret: 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=',
  token: 'gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==',
  timestamp: Date.parse('1985-10-26T01:20:00-07:00') / 1000,
  iv: Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
  src: 'hello',
};
const KDF = { salt: 'crypto_orchestrator_salt', iterations: 100_000 };
const key = FernetKey.fromBase64(SPEC.secret);

/** A correctly signed token around an arbitrary (possibly malformed) ciphertext. */
function signed(body: Buffer, iv = SPEC.iv, version = 0x80): string {
  const head = Buffer.alloc(9);
  head[0] = version;
  head.writeBigUInt64BE(BigInt(SPEC.timestamp), 1);
  const data = Buffer.concat([head, iv, body]);
  return base64urlPadded(Buffer.concat([data, createHmac('sha256', key.signing).update(data).digest()]));
}

function rawAes(block: Buffer): Buffer {
  const cipher = createCipheriv('aes-128-cbc', key.encryption, SPEC.iv).setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]);
}

const specBytes = Buffer.from(SPEC.token, 'base64url');
const INVALID: Record<string, string> = {
  'incorrect mac': base64urlPadded(Buffer.concat([specBytes.subarray(0, -1), Buffer.from([specBytes.at(-1)! ^ 1])])),
  'too short': base64urlPadded(specBytes.subarray(0, 40)),
  'invalid base64 (one char over a quad)': `${SPEC.token.replace(/=+$/, '')}A`,
  'missing padding': SPEC.token.replace(/=+$/, ''),
  'payload size not multiple of block size': signed(Buffer.alloc(15, 1)),
  'payload padding error': signed(rawAes(Buffer.alloc(16, 0))),
  'wrong version': signed(rawAes(Buffer.alloc(16, 16)), SPEC.iv, 0x81),
  'incorrect IV (MAC no longer matches)': base64urlPadded(
    Buffer.concat([specBytes.subarray(0, 9), Buffer.alloc(16, 7), specBytes.subarray(25)]),
  ),
  empty: '',
  'not a token': 'plain text api key',
};

function python(script: string, input: unknown): unknown {
  const out = execFileSync('python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
  return JSON.parse(out);
}

describe('Fernet', () => {
  it('produces the spec token for the spec inputs (padded base64url)', () => {
    expect(fernetEncrypt(key, SPEC.src, { timestamp: SPEC.timestamp, iv: SPEC.iv })).toBe(SPEC.token);
  });

  it('decrypts the spec token', () => {
    expect(fernetDecrypt(key, SPEC.token)?.toString()).toBe(SPEC.src);
  });

  it.each(Object.entries(INVALID))('refuses: %s', (_desc, token) => {
    expect(fernetDecrypt(key, token)).toBeUndefined();
  });

  it('refuses a token made with another key', () => {
    const other = new FernetKey(Buffer.alloc(32, 9));
    expect(fernetDecrypt(other, SPEC.token)).toBeUndefined();
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (plain, raw) => {
        const k = new FernetKey(Buffer.from(raw));
        const token = fernetEncrypt(k, Buffer.from(plain));
        expect(token.length % 4).toBe(0);
        expect(fernetDecrypt(k, token)?.equals(Buffer.from(plain))).toBe(true);
      }),
    );
  });

  it('decodes base64 the way Python does', () => {
    expect(decodeLikePython('gAAA\nAAAd')).toEqual(Buffer.from([0x80, 0, 0, 0, 0, 0x1d]));
    expect(decodeLikePython('gA==AAAA')).toEqual(Buffer.from([0x80]));
    expect(decodeLikePython('gAAAAA')).toBeUndefined();
    expect(decodeLikePython('gAAAA')).toBeUndefined();
  });
});

describe("the platform's key derivation", () => {
  it('matches the known answers in PLATFORM.md', () => {
    expect(deriveFernetKeyText('default-encryption-key-change-in-production-32-chars!', KDF)).toBe(
      'jIRG11NZ9piiDwu_78sCqj-wrCJ_p0HDT4nSCUlH3Sk=',
    );
    expect(deriveFernetKeyText('dev-key-32-bytes-long-change-me', KDF)).toBe('-sFQWeLzK-CJ8jsQZRAPhwYowaXkccYL38ksY9e6fX0=');
  });

  it('never prints a key', () => {
    const k = deriveFernetKey('dev-key-32-bytes-long-change-me', KDF);
    expect(String(k)).toBe('[redacted]');
    expect(JSON.stringify({ k })).not.toContain('-sFQ');
  });
});

describe('the worker copy', () => {
  it('agrees with fernet.ts on the spec token, the invalid tokens, and re-encryption', async () => {
    const other = new FernetKey(Buffer.alloc(32, 5));
    const pool = new CryptoPool([key.raw(), other.raw()], 1, 2);
    try {
      const values = [SPEC.token, ...Object.values(INVALID), fernetEncrypt(other, 'already new')];
      const { found, out } = await pool.run(values, SPEC.timestamp);
      expect(Array.from(found)).toEqual([0, ...Object.values(INVALID).map(() => -1), 1]);
      expect(fernetDecrypt(other, out[0]!)?.toString()).toBe(SPEC.src);
      expect(out.slice(1)).toEqual(values.slice(1).map(() => null));
    } finally {
      await pool.close();
    }
  });
});

describe('the worker copy, batched', () => {
  it('re-encrypts plaintexts of every length (0 to 5 blocks, block boundaries) like fernet.ts', async () => {
    const a = new FernetKey(Buffer.alloc(32, 1));
    const b = new FernetKey(Buffer.alloc(32, 2));
    const plain = Array.from({ length: 300 }, (_, i) => Buffer.alloc(i % 81, i));
    const pool = new CryptoPool([a.raw(), b.raw()], 1, 2);
    try {
      const tokens = plain.map((p) => fernetEncrypt(a, p));
      tokens.push('garbage', fernetEncrypt(b, 'kept'), ` ${fernetEncrypt(a, 'spaced')}\n`);
      const { found, out } = await pool.run(tokens, 1_700_000_000);
      expect(Array.from(found)).toEqual([...plain.map(() => 0), -1, 1, 0]);
      expect(out.slice(0, 300).map((t) => fernetDecrypt(b, t!))).toEqual(plain);
      expect(out.slice(300, 302)).toEqual([null, null]);
      expect(fernetDecrypt(b, out[302]!)?.toString()).toBe('spaced');
      expect(new Set(out.slice(0, 300).map((t) => t!.slice(12, 34))).size).toBe(300); // fresh IV per token
    } finally {
      await pool.close();
    }
  });
});

describe('the worker copy, checking without the plaintext', () => {
  it('a read-only pool and values already under the target key check the HMAC and the padding like fernet.ts', async () => {
    const other = new FernetKey(Buffer.alloc(32, 5));
    const values = [SPEC.token, ...Object.values(INVALID), fernetEncrypt(other, 'under other'), fernetEncrypt(key, '')];
    const expected = values.map((v) => (fernetDecrypt(key, v) ? 0 : fernetDecrypt(other, v) ? 1 : -1));
    for (const target of [-1, 0]) {
      const pool = new CryptoPool([key.raw(), other.raw()], target, 2);
      try {
        const { found, out } = await pool.run(values, SPEC.timestamp);
        expect(Array.from(found)).toEqual(expected);
        expect(out.map((t) => (t === null ? null : fernetDecrypt(key, t)?.toString()))).toEqual(
          values.map((_, i) => (target === 0 && expected[i] === 1 ? 'under other' : null)),
        );
      } finally {
        await pool.close();
      }
    }
    expect(expected.filter((k) => k === -1)).toHaveLength(Object.keys(INVALID).length);
  });
});

describe("Python's cryptography as the reference", () => {
  const script = String.raw`
import json, sys
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives import hashes
import base64
req = json.load(sys.stdin)
def derive(v):
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=b"crypto_orchestrator_salt", iterations=100000)
    return base64.urlsafe_b64encode(kdf.derive(v.encode()))
f = Fernet(derive(req["env"]))
def dec(t):
    try: return f.decrypt(t).decode("latin-1")
    except InvalidToken: return None
print(json.dumps({"key": derive(req["env"]).decode(), "made": [f.encrypt(p.encode("latin-1")).decode() for p in req["plain"]],
                  "read": [dec(t) for t in req["tokens"]]}))
`;

  it('reads what we write, we read what it writes, and both refuse the same bad tokens', () => {
    const env = 'a-platform-env-value-of-32-chars-or-more';
    const plain = fc.sample(fc.string({ maxLength: 80 }), 100).map((s) => Buffer.from(s, 'utf8').toString('latin1'));
    const k = deriveFernetKey(env, KDF);
    const ours = plain.map((p) => fernetEncrypt(k, Buffer.from(p, 'latin1')));
    const badForThisKey = Object.values(INVALID);
    const reply = python(script, { env, plain, tokens: [...ours, ...badForThisKey] }) as {
      key: string;
      made: string[];
      read: (string | null)[];
    };
    expect(reply.key).toBe(deriveFernetKeyText(env, KDF));
    expect(reply.read).toEqual([...plain, ...badForThisKey.map(() => null)]);
    expect(reply.made.map((t) => fernetDecrypt(k, t)?.toString('latin1'))).toEqual(plain);
  });
});
