// The keypair of a dotenvx-encrypted env file. The order keeps the file readable with what `.env.keys` holds after
// every step, so that a kill anywhere and `rotate resume` leave a file that opens with exactly the one key left in
// `.env.keys` (dotenvx's own `rotate` lost keys this way, dotenvx #807):
//   apply        `.env.keys`: DOTENV_PRIVATE_KEY=<new>,<old>          (file still under the old key)
//   write-target the file: new public key line, every value encrypted to it, one atomic write (the env-file target)
//   verify       every value opens with the new key from `.env.keys`; the restarted services are healthy
//   retire       `.env.keys`: DOTENV_PRIVATE_KEY=<new>
// An undo puts the file's bytes back first (the engine restores the target), then undoApply takes the new key out.
import type { CheckId } from '../../check-ids.js';
import { type Check, check } from '../../core-types.js';
import { type DotenvxFile, decryptEnvFile, detectDotenvx, findPrivateKey, generateKeypair, publicKeyOf } from '../../envfile/dotenvx.js';
import { readEnvFile } from '../../envfile/file.js';
import { RotateError } from '../../errors.js';
import { SecretValue } from '../../secret-value.js';
import { oldAndNew } from '../journaled.js';
import type { Preflight, Rotation, Rotator, RotatorContext } from '../types.js';
import { keysFileOf, privateKeysIn, setPrivateKeys } from './keys-file.js';
import { type DotenvxPlanFacts, type DotenvxRotationFacts, type DotenvxSecretConfig, privateKeyNameOf } from './kind.js';

type Ctx = RotatorContext<DotenvxSecretConfig>;

/** The one env file of the target, or undefined for several files or a Secret. */
const envFileOf = (ctx: Ctx): string | undefined => (ctx.files.length === 1 ? ctx.files[0] : undefined);

async function encryptedFile(path: string): Promise<DotenvxFile | undefined> {
  const { values } = await readEnvFile(path);
  return detectDotenvx(path, values);
}

/** The private key that opens the file, from `.env.keys` only (never the environment: that copy rotate cannot change). */
async function keyInKeysFile(file: DotenvxFile): Promise<SecretValue> {
  return (await findPrivateKey(file, { environment: {} })).key;
}

/** A failed check that stands for bad usage (exit 2 in a real run, a failed check in a dry run). */
const refused = (id: CheckId, name: string, error: RotateError): Check => ({
  ...check(id, name, false, error.message, error.hint),
  code: error.code,
});

async function preflightChecks(ctx: Ctx): Promise<Preflight> {
  const path = envFileOf(ctx);
  if (!path) {
    const error = new RotateError(
      'DOTENVX_TARGET',
      `the dotenvx kind rotates the keypair of one env file, and ${ctx.location} is not one`,
      {
        hint: `give secrets.${ctx.id} a config whose envFile is the one encrypted file (a config per file), not a list or a Kubernetes Secret`,
      },
    );
    return { checks: [refused('dotenvx-single-file', 'the target is one env file', error)] };
  }
  const file = await encryptedFile(path);
  if (!file || file.publicKeyName !== ctx.config.env || !file.publicKey) {
    const error = new RotateError(
      'DOTENVX_TARGET',
      `${path} has no ${ctx.config.env} line: it is not a dotenvx-encrypted file, or another key names it`,
      {
        hint: `encrypt it with \`dotenvx encrypt -f ${path}\`, or set secrets.${ctx.id}.env to its DOTENV_PUBLIC_KEY_<ENV> name`,
      },
    );
    return { checks: [refused('dotenvx-file-encrypted', `${path} is encrypted with dotenvx (${ctx.config.env})`, error)] };
  }
  const keysFile = keysFileOf(path);
  const facts = { file: path, keysFile, values: file.encryptedKeys.length } satisfies DotenvxPlanFacts;
  const checks = [check('dotenvx-file-encrypted', `${path} is encrypted with dotenvx (${ctx.config.env})`, true)];
  const fromEnvironment = Object.keys(ctx.deps.environment).filter(
    (name) => name.startsWith('DOTENV_PRIVATE_KEY') && ctx.deps.environment[name],
  );
  if (fromEnvironment.length > 0) {
    const error = new RotateError(
      'DOTENVX_KEY_IN_ENVIRONMENT',
      `${fromEnvironment.join(', ')} ${fromEnvironment.length === 1 ? 'is' : 'are'} set in rotate's environment: rotate writes the new private key to ${keysFile}, and whatever reads that variable would keep the old key`,
      {
        hint: `keep the private key of ${path} in ${keysFile} only while rotating its keypair (unset ${fromEnvironment.join(', ')}), then hand the new key to the places that read the variable`,
      },
    );
    checks.push(refused('dotenvx-key-not-in-environment', 'no private key comes from the environment', error));
  }
  try {
    await decryptEnvFile(file, { environment: {} });
    checks.push(check('dotenvx-private-key-opens', `the private key of ${path} is in ${keysFile} and opens every value`, true));
  } catch (error) {
    if (!(error instanceof RotateError)) throw error;
    checks.push(refused('dotenvx-private-key-opens', `the private key of ${path} is in ${keysFile} and opens every value`, error));
  }
  return { checks, facts };
}

/** Every encrypted value of the file opens with `key`, found in `.env.keys`, and the file's public key is `key`'s. */
async function opensWith(ctx: Ctx, key: SecretValue, name: string): Promise<Check> {
  const path = envFileOf(ctx)!;
  const file = await encryptedFile(path);
  if (!file) return check('dotenvx-values-open', name, false, `${path} is no longer dotenvx-encrypted`);
  try {
    const found = await keyInKeysFile(file);
    if (!found.equals(key)) return check('dotenvx-values-open', name, false, `${path} opens with another key of ${keysFileOf(path)}`);
    await decryptEnvFile(file, { environment: {} });
    return check('dotenvx-values-open', name, true, `${file.encryptedKeys.length} values`);
  } catch (error) {
    if (!(error instanceof RotateError)) throw error;
    return check('dotenvx-values-open', name, false, error.message, error.hint);
  }
}

export const dotenvxRotator: Rotator<DotenvxSecretConfig> = {
  kind: 'dotenvx',
  journaled: oldAndNew,

  preflight: preflightChecks,

  async generate(ctx, restore) {
    const path = envFileOf(ctx);
    const file = path ? await encryptedFile(path) : undefined;
    if (!file) throw new RotateError('DOTENVX_TARGET', `${ctx.location} is not one dotenvx-encrypted env file`);
    const old = await keyInKeysFile(file);
    const next = restore?.secrets.old ?? (await generateKeypair()).privateKey;
    const [oldPublicKey, newPublicKey] = [await publicKeyOf(old), await publicKeyOf(next)];
    if (!oldPublicKey || !newPublicKey) throw new Error('a private key of .env.keys is not a secp256k1 key');
    const rotation: Rotation = {
      // The public key is not secret; the env change carries it like any value (the target encrypts the file to it).
      env: { [ctx.config.env]: new SecretValue(newPublicKey) },
      secrets: { old, new: next },
      facts: {
        oldPublicKey: oldPublicKey.slice(0, 16),
        newPublicKey: newPublicKey.slice(0, 16),
        ...(restore ? { restored: true as const } : {}),
      } satisfies DotenvxRotationFacts,
    };
    return rotation;
  },

  // Both keys in `.env.keys` before any ciphertext changes: the file opens whichever key it is under.
  async apply(ctx, rotation) {
    const keysFile = keysFileOf(envFileOf(ctx)!);
    const name = privateKeyNameOf(ctx.config);
    const others = (await privateKeysIn(keysFile, name)).filter(
      (k) => k !== rotation.secrets.new!.reveal() && k !== rotation.secrets.old!.reveal(),
    );
    await setPrivateKeys(keysFile, name, [rotation.secrets.new!, rotation.secrets.old!, ...others.map((k) => new SecretValue(k))]);
  },

  // The engine has put the file's bytes back (under the old key); the new key leaves `.env.keys`. A file still under
  // the new key (restored by hand, or not at all) keeps both keys: it must stay readable.
  async undoApply(ctx, rotation) {
    const path = envFileOf(ctx)!;
    const file = await encryptedFile(path);
    const next = rotation.secrets.new!;
    if (file?.publicKey === (await publicKeyOf(next))) return;
    const keysFile = keysFileOf(path);
    const name = privateKeyNameOf(ctx.config);
    const kept = (await privateKeysIn(keysFile, name)).filter((k) => k !== next.reveal());
    const old = rotation.secrets.old!;
    await setPrivateKeys(keysFile, name, [old, ...kept.filter((k) => k !== old.reveal()).map((k) => new SecretValue(k))]);
  },

  async verify(ctx, rotation) {
    const next = rotation.secrets.new!;
    const path = envFileOf(ctx)!;
    return [
      check('env-key-holds-new', `${ctx.config.env} holds the new public key`, ctx.env[ctx.config.env] === (await publicKeyOf(next)), path),
      await opensWith(ctx, next, `every value of ${path} opens with the new private key in ${keysFileOf(path)}`),
    ];
  },

  // The old key leaves `.env.keys` only once the file is under the new one.
  async retire(ctx, rotation) {
    const path = envFileOf(ctx)!;
    const file = await encryptedFile(path);
    const next = rotation.secrets.new!;
    if (file?.publicKey !== (await publicKeyOf(next))) {
      throw new RotateError('DOTENVX_TARGET', `${path} is not under the new public key; the old private key stays in ${keysFileOf(path)}`);
    }
    const keysFile = keysFileOf(path);
    const name = privateKeyNameOf(ctx.config);
    const old = rotation.secrets.old!.reveal();
    const kept = (await privateKeysIn(keysFile, name)).filter((k) => k !== old && k !== next.reveal());
    await setPrivateKeys(keysFile, name, [next, ...kept.map((k) => new SecretValue(k))]);
  },

  async verifyRetired(ctx, rotation) {
    const keysFile = keysFileOf(envFileOf(ctx)!);
    const keys = await privateKeysIn(keysFile, privateKeyNameOf(ctx.config));
    return [
      check(
        'dotenvx-old-private-key-removed',
        `${keysFile} no longer holds the old private key`,
        !keys.includes(rotation.secrets.old!.reveal()),
      ),
      check('dotenvx-new-private-key-kept', `${keysFile} holds the new private key`, keys.includes(rotation.secrets.new!.reveal())),
    ];
  },

  async verifyCurrent(ctx) {
    const path = envFileOf(ctx);
    const file = path ? await encryptedFile(path) : undefined;
    if (!path || !file) return [check('dotenvx-file-encrypted', `${ctx.location} is one env file encrypted with dotenvx`, false)];
    try {
      const key = await keyInKeysFile(file);
      return [await opensWith(ctx, key, `every value of ${path} opens with the private key in ${keysFileOf(path)}`)];
    } catch (error) {
      if (!(error instanceof RotateError)) throw error;
      return [check('dotenvx-private-key-opens', `the private key of ${path} is in ${keysFileOf(path)}`, false, error.message, error.hint)];
    }
  },
};
