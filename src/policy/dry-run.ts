// `rotate --dry-run` carries the findings of `rotate check` that a rotation would not cure and that make it unsafe:
// a new value written into an env file git tracks is committed next; a value another environment holds stays shared;
// a store open to others gives the sealed backups away. Each stands as a failed check of the secrets it concerns
// (exit 1, as every failed dry-run check). The findings a rotation cures (weak, reused, overdue) stay in `rotate check`.
import type { Check } from '../core-types.js';
import type { SecretResult, Session } from '../engine/index.js';
import { envKeysOf } from '../secrets/index.js';
import { envFilesOf } from '../target/index.js';
import { acrossEnvironments, envFileFindings, type GitRunner, storeFindings } from './check.js';
import type { FindingId } from './findings.js';

const UNSAFE: FindingId[] = ['env-file-tracked', 'value-shared-across-environments', 'store-readable'];

export async function withPolicyChecks(
  session: Session,
  results: SecretResult[],
  git: GitRunner,
): Promise<{ results: SecretResult[]; failed: boolean }> {
  const planned = results.filter((r) => r.status === 'planned' || r.status === 'preflight-failed');
  if (planned.length === 0) return { results, failed: false };
  // Only what these findings need: no extra read of the target unless an environment is named (kept cheap for CI).
  const keys = [...new Set(Object.values(session.config.secrets).flatMap((config) => envKeysOf(config)))];
  const gathered = [
    ...(await Promise.all(envFilesOf(session.config.target).map((path) => envFileFindings(path, keys, git)))).flat(),
    ...(await storeFindings(session)),
    ...(session.config.environment
      ? await acrossEnvironments(session, Object.keys(session.config.secrets), (await session.target.read()).values)
      : []),
  ];
  const findings = gathered.filter((f) => f.severity === 'error' && UNSAFE.includes(f.id));
  if (findings.length === 0) return { results, failed: false };
  let failed = false;
  const out = results.map((result) => {
    if (!planned.includes(result)) return result;
    const mine = findings.filter((f) => !f.secret || f.secret === result.secret);
    if (mine.length === 0) return result;
    failed = true;
    const checks: Check[] = mine.map((f) => ({
      id: 'policy-finding',
      name: `policy: ${f.id}`,
      ok: false,
      detail: `${f.where}: ${f.message}`,
      hint: f.fix,
    }));
    return { ...result, status: 'preflight-failed' as const, checks: [...result.checks, ...checks] };
  });
  return { results: out, failed };
}
