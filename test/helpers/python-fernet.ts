// The platform's own code path for exchange keys: Python's `cryptography` Fernet under the platform's key
// derivation (PLATFORM.md). End-to-end tests encrypt rows with it before `rotate` runs and read them back with it
// afterwards, so rotate's Fernet is checked against the real implementation, not against itself.
import { execFileSync } from 'node:child_process';

const SCRIPT = String.raw`
import base64, json, sys
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

def fernet_key(env):
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=b"crypto_orchestrator_salt", iterations=100000)
    return base64.urlsafe_b64encode(kdf.derive(env.encode("utf-8")))

req = json.load(sys.stdin)
if req["op"] == "derive":
    print(json.dumps([fernet_key(e).decode() for e in req["envs"]]))
elif req["op"] == "encrypt":
    f = Fernet(fernet_key(req["envs"][0]))
    # As the platform stores them: "" stays "" (not encrypted), a missing value is NULL.
    print(json.dumps([None if v is None else ("" if v == "" else f.encrypt(v.encode("utf-8")).decode()) for v in req["values"]]))
else:
    keys = [Fernet(fernet_key(e)) for e in req["envs"]]
    seen = {}
    def read(v):
        # [index of the first key that decrypts it, plaintext]; -1: none does. NULL and "" are not encrypted.
        if v is None or v == "":
            return [None, v]
        if v in seen:
            return seen[v]
        out = [-1, None]
        for i, f in enumerate(keys):
            try:
                out = [i, f.decrypt(v.encode()).decode("utf-8")]
                break
            except InvalidToken:
                pass
        seen[v] = out
        return out
    print(json.dumps([read(v) for v in req["values"]]))
`;

function python<T>(request: object): T {
  const out = execFileSync('python3', ['-c', SCRIPT], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  return JSON.parse(out) as T;
}

/** Fernet keys (padded base64url) the platform derives from these env values. */
export const pyFernetKeys = (envs: string[]): string[] => python({ op: 'derive', envs });

/** Encrypts like the platform: "" stays "", null stays null. */
export const pyEncrypt = (env: string, values: (string | null)[]): (string | null)[] => python({ op: 'encrypt', envs: [env], values });

export interface PyRead {
  /** Index into `envs` of the key that decrypts the value; -1: none; null: NULL or "" (not encrypted). */
  key: number | null;
  plain: string | null;
}

/** Decrypts every value with the first of `envs` that works. */
export function pyDecrypt(envs: string[], values: (string | null)[]): PyRead[] {
  return python<[number | null, string | null][]>({ op: 'decrypt', envs, values }).map(([key, plain]) => ({ key, plain }));
}
