// A Secret with its source: the live Secret and the file it is deployed from (`target.source.file`) are one set.
// They must agree on the current values of the keys being rotated before anything changes; a write edits the file,
// then patches the Secret (with kubectl apply's last-applied-configuration rewritten to match the new file, so the
// next `kubectl apply -f` finds nothing to change and the old value does not live on in the annotation); a patch that
// fails puts the file's bytes back, so both are written or neither. Backups hold both; restore puts both back.
import { createHash } from 'node:crypto';
import type { Check } from '../core-types.js';
import { RotateError, usageError } from '../errors.js';
import { lastAppliedFor, updatedLastApplied } from '../kubernetes/last-applied.js';
import type { SecretTarget } from './kubernetes.js';
import type { SecretSource } from './secret-source.js';
import type { Target, TargetPreflight, TargetSnapshot } from './types.js';

interface Backup {
  format: 'secret+source';
  secret: string;
  source: { path: string; text: string };
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

export function withSource(secret: SecretTarget, source: SecretSource): Target {
  /** The source's bytes at the last read: a write refuses a file that changed since. */
  let readText: string | undefined;

  async function agree(live: Readonly<Record<string, string>>, keys: readonly string[]): Promise<Record<string, string>> {
    const text = await source.text();
    readText = text;
    const inFile = await source.values(text);
    for (const key of keys) {
      if (live[key] === inFile[key]) continue;
      if (inFile[key] === undefined) {
        throw usageError(
          'SOURCE_KEY_MISSING',
          `${secret.description} holds ${key} but its source ${source.path} (target.source.file) does not; nothing was changed`,
          `add ${key} with its current value to ${source.path} (the value the Secret holds now), then run rotate again`,
        );
      }
      throw usageError(
        'SOURCE_DISAGREES',
        `${source.path} (target.source.file) and ${secret.description} hold different values of ${key}${live[key] === undefined ? ` (the Secret has no ${key})` : ''}; nothing was changed`,
        `deploy the source (kubectl apply -f ${source.path}) or fix it so both hold the value the app uses now, then run rotate again`,
      );
    }
    return inFile;
  }

  return {
    description: `${secret.description} and its source ${source.path}`,

    async read(agreeOn = []) {
      const live = await secret.read();
      await agree(live.values, agreeOn);
      return { values: live.values, version: `${live.version}:${digest(readText ?? '')}` };
    },

    async preflight(keys): Promise<TargetPreflight> {
      const live = await secret.preflight(keys);
      return { checks: [...live.checks, ...(await source.preflight())], warnings: live.warnings };
    },

    async backup() {
      const backup: Backup = {
        format: 'secret+source',
        secret: (await secret.backup()).toString('base64'),
        source: { path: source.path, text: await source.text() },
      };
      return Buffer.from(JSON.stringify(backup));
    },

    async write(changes, expected): Promise<TargetSnapshot> {
      const before = await source.text();
      if (expected && readText !== undefined && before !== readText) {
        throw new RotateError(
          'TARGET_CHANGED',
          `${source.path} changed since rotate read it at the start of the run; nothing was written`,
          {
            hint: 'someone edits the source file: let them finish, then run rotate again',
          },
        );
      }
      const after = await source.write(changes);
      try {
        // kubectl apply's bookkeeping follows the new file: computed from a manifest, patched for an env file.
        const current = await secret.lastApplied();
        const lastApplied =
          current === undefined
            ? undefined
            : source.manifest
              ? lastAppliedFor(source.manifest(after))
              : updatedLastApplied(current, changes);
        const liveVersion = expected?.version.split(':')[0];
        const live = await secret.write(changes, liveVersion ? { values: expected!.values, version: liveVersion } : undefined, lastApplied);
        readText = after;
        return { values: live.values, version: `${live.version}:${digest(after)}` };
      } catch (error) {
        // Neither: the Secret refused the patch, so the file goes back to its bytes before.
        await source.restore(before, Object.keys(changes));
        throw error;
      }
    },

    async restore(backup, keys) {
      const parsed = JSON.parse(backup.toString('utf8')) as Backup;
      if (parsed.format !== 'secret+source') throw new Error('not a backup of a Secret with its source');
      await source.restore(parsed.source.text, keys);
      await secret.restore(Buffer.from(parsed.secret, 'base64'), keys, true);
    },

    async places() {
      const live = await secret.read();
      return [
        { where: secret.description, values: live.values },
        { where: source.path, values: await source.values() },
      ];
    },
  };
}
