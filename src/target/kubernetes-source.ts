// A Secret with its source: the live Secret and the file it is deployed from (`target.source.file`) are one set.
// They must agree on the current values of the keys being rotated before anything changes; a write edits the file,
// then patches the Secret (with kubectl apply's last-applied-configuration rewritten to match the new file, so the
// next `kubectl apply -f` finds nothing to change and the old value does not live on in the annotation); a patch that
// fails puts the file's bytes back, so both are written or neither. Backups hold both; restore puts both back.
// With git delivery (target.source.git) a write edits the file, commits and pushes it, and leaves the live Secret to
// the GitOps controller (`delivery.converged` tells the engine's converge step when it holds the values); a commit or
// push that fails puts the file's bytes back. A restore writes the file back, commits and pushes that too, and puts
// the live Secret back at once (the controller then applies the same values).
import { createHash } from 'node:crypto';
import { errorInfo, RotateError, usageError } from '../errors.js';
import { lastAppliedFor, updatedLastApplied } from '../kubernetes/last-applied.js';
import type { GitDelivery } from './git-delivery.js';
import type { SecretTarget } from './kubernetes.js';
import type { SecretSource } from './secret-source.js';
import type { Place, Target, TargetPreflight, TargetSnapshot, WriteAbout } from './types.js';

interface Backup {
  format: 'secret+source';
  secret: string;
  source: { path: string; text: string };
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** A commit message naming the secret ids and the run, never a value. */
const commitMessage = (verb: string, keys: readonly string[], about: WriteAbout | undefined): string =>
  `rotate: ${verb} ${about?.secrets.join(', ') ?? keys.join(', ')}${about ? ` (run ${about.runId})` : ''}\n\nKeys: ${keys.join(', ')}`;

export function withSource(secret: SecretTarget, source: SecretSource, git?: { delivery: GitDelivery; convergeSeconds: number }): Target {
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

  /** The source as drift reads it; a file that is missing or cannot be decrypted is named with its fix, not thrown. */
  async function sourcePlace(): Promise<Place> {
    try {
      return { where: source.path, values: await source.values() };
    } catch (error) {
      if (!(error instanceof RotateError)) throw error;
      return { where: source.path, unreadable: errorInfo(error) };
    }
  }

  /** Git delivery: commit and push the file just written; the live Secret is the controller's to change. */
  async function deliver(
    changes: Readonly<Record<string, string | null>>,
    before: string,
    after: string,
    expected: TargetSnapshot | undefined,
    about: WriteAbout | undefined,
  ): Promise<TargetSnapshot> {
    const keys = Object.keys(changes);
    const values = Object.values(changes).filter((v): v is string => typeof v === 'string');
    try {
      await git!.delivery.deliver(commitMessage('rotate', keys, about), values);
    } catch (error) {
      await source.restore(before, keys);
      throw error;
    }
    readText = after;
    const live = expected?.version.split(':')[0] ?? '';
    const values2 = Object.fromEntries(
      Object.entries({ ...(expected?.values ?? {}), ...changes }).filter((e): e is [string, string] => e[1] !== null),
    );
    return { values: values2, version: `${live}:${digest(after)}` };
  }

  return {
    description: `${secret.description} and its source ${source.path}${git ? ` (pushed to ${git.delivery.config.remote}/${git.delivery.config.branch})` : ''}`,
    ...(git
      ? {
          delivery: {
            convergeSeconds: git.convergeSeconds,
            async converged(values: Readonly<Record<string, string | null>>) {
              const live = (await secret.read()).values;
              return Object.entries(values).every(([key, value]) => (value === null ? !(key in live) : live[key] === value));
            },
          },
        }
      : {}),

    async read(agreeOn = []) {
      const live = await secret.read();
      if (agreeOn.length > 0) await agree(live.values, agreeOn);
      else {
        // Nothing to agree on (status, check): the live values are what the app reads. A source that cannot be read
        // is named by places() and refused by every write, never a reason to show nothing at all.
        readText = await source.text().catch((error: unknown) => {
          if (error instanceof RotateError) return undefined;
          throw error;
        });
      }
      return { values: live.values, version: `${live.version}:${digest(readText ?? '')}` };
    },

    async preflight(keys): Promise<TargetPreflight> {
      const live = await secret.preflight(keys);
      const checks = [...live.checks, ...(await source.preflight())];
      if (git) checks.push(...(await git.delivery.preflight(await source.encrypted().catch(() => false))));
      return { checks, warnings: live.warnings };
    },

    async backup() {
      const backup: Backup = {
        format: 'secret+source',
        secret: (await secret.backup()).toString('base64'),
        source: { path: source.path, text: await source.text() },
      };
      return Buffer.from(JSON.stringify(backup));
    },

    async write(changes, expected, about): Promise<TargetSnapshot> {
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
      if (git) return deliver(changes, before, after, expected, about);
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
        const live = await secret.writeWith(
          changes,
          liveVersion ? { values: expected!.values, version: liveVersion } : undefined,
          lastApplied,
        );
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
      if (git) {
        const before = await source.text();
        await source.restore(parsed.source.text, keys);
        if ((await source.text()) !== before) await git.delivery.deliver(commitMessage('restore', keys, undefined), []);
      } else await source.restore(parsed.source.text, keys);
      await secret.restore(Buffer.from(parsed.secret, 'base64'), keys, true);
    },

    async places(): Promise<Place[]> {
      const live = await secret.read();
      return [{ where: secret.description, values: live.values }, await sourcePlace()];
    },
  };
}
