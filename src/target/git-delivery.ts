// Git delivery of a Secret's source (`target.source.git`): rotate writes the source file, commits only that file and
// pushes it; a GitOps controller (Argo CD, Flux) applies it to the cluster. Only an encrypted source may go to git:
// a diff that would hold a new value raw or base64, or a `.env.keys`, is refused before anything is committed. A push
// the remote refuses takes the local commit back, so nothing is left changed. Git runs through `deps.git` (argv only,
// never a shell); its messages are scrubbed of credentials (a remote URL's user:password@).
import { execFile } from 'node:child_process';
import { basename, dirname, relative } from 'node:path';
import type { Check } from '../core-types.js';
import { KEYS_FILE } from '../envfile/dotenvx.js';
import { RotateError } from '../errors.js';

export interface GitDeliveryConfig {
  remote: string;
  branch: string;
}

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs git with `args` in `cwd`; never throws for a non-zero exit. */
export type GitRunner = (args: readonly string[], cwd: string) => Promise<GitResult>;

export const runGit: GitRunner = (args, cwd) =>
  new Promise((resolve) => {
    execFile(
      'git',
      [...args],
      { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr: stderr || (error && !stderr ? error.message : '') });
      },
    );
  });

/** A remote's message without any credential: `https://user:token@host` becomes `https://***@host`. */
export const scrubCredentials = (text: string): string =>
  text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1***@').replace(/(authorization:\s*)\S+(\s+\S+)?/gi, '$1***');

/** Whether `text` holds `value` raw or base64 (standard or url-safe, with or without padding). */
export function holdsValue(text: string, value: string): boolean {
  if (value.length === 0) return false;
  const b64 = Buffer.from(value, 'utf8').toString('base64');
  const forms = [value, b64, b64.replace(/=+$/, ''), Buffer.from(value, 'utf8').toString('base64url')];
  return forms.some((form) => form.length > 0 && text.includes(form));
}

export interface GitDelivery {
  readonly config: GitDeliveryConfig;
  /** Read-only checks: a git work tree, nothing else uncommitted in the file, an encrypted source, no `.env.keys`. */
  preflight(encrypted: boolean): Promise<Check[]>;
  /**
   * Commits the file (only it) and pushes it to remote/branch. Refuses (GIT_PLAINTEXT, nothing committed) when the
   * diff holds any of `values` raw or base64; a refused push takes the commit back (GIT_PUSH_REFUSED).
   */
  deliver(message: string, values: readonly string[]): Promise<{ commit: string }>;
}

export function openGitDelivery(file: string, config: GitDeliveryConfig, git: GitRunner = runGit): GitDelivery {
  const dir = dirname(file);
  const name = basename(file);
  const where = `${file} (target.source.file)`;

  async function topLevel(): Promise<string | undefined> {
    const top = await git(['rev-parse', '--show-toplevel'], dir);
    return top.code === 0 ? top.stdout.trim() : undefined;
  }

  /** What else is uncommitted in the file: staged or unstaged changes, or the file untracked. */
  async function dirt(): Promise<string | undefined> {
    const status = await git(['status', '--porcelain', '--', name], dir);
    if (status.code !== 0) return scrubCredentials(status.stderr.trim());
    const line = status.stdout.trim();
    if (line === '') return undefined;
    return line.startsWith('??') ? 'it is not tracked by git' : 'it has uncommitted changes';
  }

  return {
    config,

    async preflight(encrypted) {
      const checks: Check[] = [];
      const top = await topLevel();
      if (!top) {
        checks.push({
          id: 'git-work-tree',
          name: `${where} is in a git work tree`,
          ok: false,
          detail: `${dir} is not inside a git work tree, so target.source.git cannot commit it`,
          hint: `clone the repository the GitOps controller watches and point target.source.file at the file in it, or remove target.source.git`,
          code: 'GIT_NOT_A_REPO',
        });
        return checks;
      }
      checks.push({ id: 'git-work-tree', name: `${where} is in a git work tree`, ok: true, detail: top });
      const dirty = await dirt();
      checks.push(
        dirty
          ? {
              id: 'git-source-clean',
              name: `${where}: nothing else uncommitted`,
              ok: false,
              detail: `${relative(top, file)}: ${dirty}; rotate commits only its own change`,
              hint: `commit or discard the change to ${relative(top, file)} (git -C ${top} diff -- ${relative(top, file)}), then run rotate again`,
              code: 'GIT_SOURCE_DIRTY',
            }
          : { id: 'git-source-clean', name: `${where}: nothing else uncommitted`, ok: true },
      );
      if (name === KEYS_FILE) {
        checks.push({
          id: 'git-source-encrypted',
          name: `${where} may go to git`,
          ok: false,
          detail: `${name} holds the private keys that decrypt the source; it must never be committed`,
          hint: 'point target.source.file at the encrypted env file (or manifest), never at .env.keys',
          code: 'GIT_PLAINTEXT',
        });
      } else if (!encrypted) {
        checks.push({
          id: 'git-source-encrypted',
          name: `${where} may go to git`,
          ok: false,
          detail: `${where} holds the values in plaintext (or base64): a commit would publish the new value to everyone who can read the repository`,
          hint: 'encrypt the source (dotenvx encrypt -f <file>, and build the Secret from it) before using target.source.git, or remove target.source.git',
          code: 'GIT_PLAINTEXT',
        });
      } else {
        checks.push({ id: 'git-source-encrypted', name: `${where} may go to git`, ok: true, detail: 'encrypted with dotenvx' });
      }
      const remote = await git(['remote', 'get-url', config.remote], dir);
      checks.push(
        remote.code === 0
          ? { id: 'git-remote', name: `git remote ${config.remote}`, ok: true, detail: scrubCredentials(remote.stdout.trim()) }
          : {
              id: 'git-remote',
              name: `git remote ${config.remote}`,
              ok: false,
              detail: `the repository of ${where} has no remote ${config.remote}`,
              hint: 'set target.source.git.remote to a remote of that repository (git remote -v)',
              code: 'GIT_NOT_A_REPO',
            },
      );
      return checks;
    },

    async deliver(message, values) {
      const top = await topLevel();
      if (!top) throw new RotateError('GIT_NOT_A_REPO', `${dir} is not inside a git work tree; nothing was committed`);
      const diff = await git(['diff', '--no-color', '--', name], dir);
      const staged = await git(['diff', '--no-color', '--cached', '--', name], dir);
      if (values.some((value) => holdsValue(diff.stdout, value) || holdsValue(staged.stdout, value))) {
        throw new RotateError('GIT_PLAINTEXT', `the change to ${where} holds a new value in plaintext (or base64); nothing was committed`, {
          hint: 'only an encrypted source may go to git: encrypt it with dotenvx, or remove target.source.git',
        });
      }
      const before = (await git(['rev-parse', 'HEAD'], dir)).stdout.trim();
      const commit = await git(['commit', '--quiet', '--no-verify', '-m', message, '--', name], dir);
      if (commit.code !== 0) {
        throw new RotateError(
          'GIT_COMMIT_FAILED',
          `git could not commit ${where}: ${scrubCredentials(commit.stderr.trim() || commit.stdout.trim())}`,
          {
            hint: 'set user.name and user.email for that repository (git config), then run rotate again',
          },
        );
      }
      const head = (await git(['rev-parse', 'HEAD'], dir)).stdout.trim();
      const push = await git(['push', '--porcelain', config.remote, `HEAD:refs/heads/${config.branch}`], dir);
      if (push.code !== 0) {
        // Nothing left changed: the commit goes (the file keeps the change, which the target's write puts back).
        await git(['reset', '--quiet', '--mixed', before], dir);
        throw new RotateError(
          'GIT_PUSH_REFUSED',
          `${config.remote} refused the push of ${where} to ${config.branch}; the local commit was taken back: ${scrubCredentials(push.stderr.trim() || push.stdout.trim())}`,
          { hint: `fix what the remote says (a protected branch, a branch that moved: git -C ${top} pull), then run rotate again` },
        );
      }
      return { commit: head };
    },
  };
}
