// Output that is never wrong: a JWT secret with no verify URL is never called verified (the sentence and --json say
// what was not checked), a rollback's lines say "previous secret", and status agrees with status --check after a
// failed run until a passing `rotate verify` clears it. No app runs: the restart is a shell command.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';

const OLD = 'honest-output-old-secret-0123456789-abcdefgh';
const MASTER = 'e'.repeat(64);

function project(restart: string) {
  const dir = scratchDir('rotate-honest-');
  writeFileSync(join(dir, '.env'), `JWT_SECRET=${OLD}\n`, { mode: 0o600 });
  writeFileSync(
    join(dir, 'rotate.config.json'),
    JSON.stringify({ services: { backend: { restart } }, secrets: { jwt: { services: ['backend'] } } }),
  );
  const cli = (args: string[]) => runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER } });
  const secret = () => /JWT_SECRET=(.*)/.exec(readFileSync(join(dir, '.env'), 'utf8'))?.[1] ?? '';
  return { dir, cli, secret };
}

describe('output that is never wrong', () => {
  it('a JWT secret without verify.url is rotated and rolled back, never "verified"; rollback lines say "previous secret"', async () => {
    const p = project('true');
    const rotated = await p.cli(['jwt', '--yes']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).not.toContain('verified;');
    expect(rotated.stdout).toContain('jwt (jwt): rotated, not verified in the app; the old value is retired');
    expect(rotated.stdout).toContain('not checked: no verify.url');
    const json = JSON.parse((await p.cli(['verify', 'jwt', '--json'])).stdout).results[0];
    expect(json.status).toBe('verified');
    expect(json.unchecked).toMatch(/^no verify\.url: nothing asked the app/);

    const back = await p.cli(['rollback', 'jwt', '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain('previous value restored, not verified in the app');
    expect(back.stdout).toContain('JWT_SECRET holds the previous secret');
    expect(back.stdout).not.toContain('holds the new secret');
    expect(p.secret()).toBe(OLD);
    expect(
      findLeaks({ out: rotated.stdout + rotated.stderr + back.stdout + back.stderr, ...readTree(join(p.dir, '.rotate')) }, [OLD]),
    ).toEqual([]);
  });

  it('after a rolled-back run status shows it as status --check does, and a passing rotate verify clears both', async () => {
    // The restart fails while the env file holds a new secret, and works again once the old one is back.
    const p = project(`grep -q ${OLD} .env`);
    // In date, so that --check has nothing else to report.
    expect((await p.cli(['mark', 'jwt', '--rotated-at', new Date().toISOString().slice(0, 10), '--yes'])).code).toBe(0);
    const failed = await p.cli(['jwt', '--yes', '--json']);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout).results[0].status).toBe('rolled-back');

    const status = await p.cli(['status']);
    expect(status.stdout).toMatch(/jwt .* last run rolled-back .*: rotate history jwt/);
    const check = await p.cli(['status', '--check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('ended rolled-back');
    const rows = JSON.parse((await p.cli(['status', '--json'])).stdout).results[0];
    expect(rows).toMatchObject({ lastRunOk: false, lastRun: { result: 'rolled-back' } });

    const verify = await p.cli(['verify', 'jwt']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('recorded: the current value passed rotate verify after the last run failed');
    expect((await p.cli(['status'])).stdout).not.toContain('last run');
    const after = await p.cli(['status', '--check']);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('check ok');
  });

  it('a restart that fails, and fails again in the rollback: its message and what it printed are shown once', async () => {
    // The restart command prints two lines (one with a secret in it, which must never show) and exits 7, every time.
    const p = project(`echo "compose: service backend failed to start"; echo "token=$(grep JWT_SECRET .env)" >&2; exit 7`);
    const failed = await p.cli(['jwt', '--yes']);
    expect(failed.code, failed.stderr).toBe(3);
    const out = failed.stdout;
    expect(out.split('exited with 7').length - 1, out).toBe(1);
    expect(out.split('compose: service backend failed to start').length - 1, out).toBe(1);
    expect(out).toContain('[ROLLBACK_FAILED] the restart command of service backend exited with 7, and again while rolling back');
    // Its lines stay lines (not one line of \\n), under the hint; the way on comes last.
    expect(out).toMatch(
      /hint: check services\.backend\.restart in the config; it printed:\n {6}token=JWT_SECRET=\[redacted\]\n {6}compose: service backend failed to start\n {6}fix the cause, then run `rotate resume`/,
    );
    const json = await p.cli(['status', '--json']);
    expect(json.stdout.split('exited with 7').length - 1).toBe(1);
    const resume = await p.cli(['resume']);
    expect(
      findLeaks({ out, err: failed.stderr, resume: resume.stdout + resume.stderr, ...readTree(join(p.dir, '.rotate')) }, [OLD, p.secret()]),
    ).toEqual([]);
  });

  it('each step of a run says "step N of M: <step> (<elapsed> elapsed)" on stderr, never on stdout; --quiet silences it', async () => {
    const p = project('true');
    const run = await p.cli(['jwt', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    const steps = run.stderr.split('\n').filter((line) => line.startsWith('step '));
    expect(steps.map((line) => line.replace(/\(\d+s elapsed\)$/, '(…)'))).toEqual([
      'step 1 of 6: apply (…)',
      'step 2 of 6: write-target (…)',
      'step 3 of 6: restart (…)',
      'step 4 of 6: verify (…)',
      'step 5 of 6: retire (…)',
      'step 6 of 6: verify-retired (…)',
    ]);
    expect(run.stdout).not.toContain('step ');
    const json = await p.cli(['jwt', '--yes', '--json']);
    expect(JSON.parse(json.stdout).results[0].status).toBe('rotated');
    expect(json.stderr).toContain('step 3 of 6: restart (');
    const quiet = await p.cli(['jwt', '--yes', '--quiet']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toContain('step ');
  });
});
