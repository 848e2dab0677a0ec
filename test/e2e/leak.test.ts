// A leak answered by a rotation, end to end: the real secretlint scans a git repository that holds the current
// JWT_SECRET, `rotate leak --from` its JSON report rotates jwt and its related jwt-refresh as one emergency run, and
// a token signed with the leaked secret is refused by the app afterwards. No value reaches any output or the store.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputSchema } from '../../src/terminal/output-schema.js';
import { authStatus } from '../helpers/app.js';
import { findLeaks, ROOT, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { type JwtProject, jwtProject, OLD_JWT } from '../helpers/jwt-project.js';

const REFRESH = 'old-refresh-secret-0123456789-abcdefghijklmnop';
const SECRETLINT = join(ROOT, 'node_modules/.bin/secretlint');

/**
 * secretlint's recommended preset finds provider tokens (AWS, GitHub, Slack...), not a random signing secret, so the
 * scan adds @secretlint/secretlint-rule-pattern with a pattern for the JWT keys (docs/policy.md says the same).
 */
const SECRETLINTRC = {
  rules: [
    { id: '@secretlint/secretlint-rule-preset-recommend' },
    {
      id: '@secretlint/secretlint-rule-pattern',
      options: {
        patterns: [
          { name: 'JWT signing secret', patterns: ['/JWT_(?:REFRESH_)?SECRET\\s*=\\s*["\']?(?<secret>[A-Za-z0-9_\\-+/=]{16,})/'] },
        ],
      },
    },
  ],
};

describe('rotate leak with a real secretlint report', () => {
  let project: JwtProject;
  let repo: string;
  let report: string;

  beforeAll(async () => {
    project = await jwtProject({ envText: `APP_ENV=production\nJWT_SECRET=${OLD_JWT}\nJWT_REFRESH_SECRET=${REFRESH}\n` });
    const path = join(project.dir, 'rotate.config.json');
    const config = JSON.parse(readFileSync(path, 'utf8'));
    config.secrets.jwt.related = ['jwt-refresh'];
    config.secrets['jwt-refresh'] = { kind: 'jwt', env: 'JWT_REFRESH_SECRET', services: ['backend'] };
    writeFileSync(path, JSON.stringify(config));

    // A repository where someone committed the production JWT secret in a settings file, and an unrelated token.
    repo = scratchDir('rotate-leaked-repo-');
    mkdirSync(join(repo, 'config'));
    writeFileSync(join(repo, 'config/settings.env'), `# copied from prod\nJWT_SECRET=${OLD_JWT}\n`);
    writeFileSync(join(repo, 'notes.txt'), 'JWT_SECRET=unmanaged-value-0123456789abcdef\n');
    writeFileSync(join(repo, '.secretlintrc.json'), JSON.stringify(SECRETLINTRC));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });
    git('init', '-q');
    git('-c', 'user.email=dev@example.com', '-c', 'user.name=dev', 'add', '.');
    git('-c', 'user.email=dev@example.com', '-c', 'user.name=dev', 'commit', '-qm', 'settings');
    report = join(scratchDir('rotate-report-'), 'secretlint.json');
    // secretlint exits 1 when it finds something; its report is the output file. Its default masking is kept: the
    // report's sourceContent and range still locate the match (docs/policy.md).
    try {
      execFileSync(SECRETLINT, ['--format', 'json', '--output', report, 'config/settings.env', 'notes.txt'], { cwd: repo, stdio: 'pipe' });
    } catch (error) {
      if ((error as { status?: number }).status !== 1) throw error;
    }
  }, 60_000);

  afterAll(async () => {
    await project?.app.stop();
  });

  it('without --yes off a terminal prints the plan (jwt, related jwt-refresh, one unmanaged finding), exit 1, nothing rotated', async () => {
    const plan = await project.cli(['leak', '--from', report, '--json']);
    expect(plan.code, plan.stderr).toBe(1);
    const doc = JSON.parse(plan.stdout);
    expect(outputSchema.safeParse(doc).success).toBe(true);
    expect(doc).toMatchObject({ command: 'leak', scanner: 'secretlint', unmanaged: 1, rotated: false });
    expect(doc.plan).toEqual({ matched: ['jwt'], related: ['jwt-refresh'], rotate: ['jwt', 'jwt-refresh'] });
    expect(doc.results.find((r: { file: string }) => r.file.endsWith('settings.env'))).toMatchObject({ line: 2, secrets: ['jwt'] });
    expect(project.jwt()).toBe(OLD_JWT);
  });

  it('with --yes rotates jwt and jwt-refresh as one emergency run whose reason names the report; the leaked token is refused', async () => {
    expect(await authStatus(project.app.url, OLD_JWT)).toBe(200);
    const run = await project.cli(['leak', '--from', report, '--yes']);
    // One finding is unmanaged: exit 1 after the rotation (CI fails loudly).
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('Unmanaged: 1 finding');
    const env = dotenv.parse(readFileSync(join(project.dir, '.env')));
    expect(env.JWT_SECRET).not.toBe(OLD_JWT);
    expect(env.JWT_REFRESH_SECRET).not.toBe(REFRESH);
    expect(await authStatus(project.app.url, OLD_JWT)).toBe(401);
    expect(await authStatus(project.app.url, env.JWT_SECRET!)).toBe(200);

    const history = JSON.parse((await project.cli(['history', '--json'])).stdout).results;
    const records = history.filter((e: { runId: string }) => e.runId === history[0].runId);
    expect(records.map((e: { secret: string }) => e.secret).sort()).toEqual(['jwt', 'jwt-refresh']);
    for (const record of records) {
      expect(record).toMatchObject({ emergency: true, result: 'rotated' });
      expect(record.reason).toMatch(
        /^leak report secretlint\.json: secretlint @secretlint\/secretlint-rule-pattern in .*settings\.env:2: jwt/,
      );
    }

    const everything: Record<string, string> = {
      ...readTree(join(project.dir, '.rotate')),
      out: run.stdout + run.stderr,
      app: project.app.log(),
    };
    expect(findLeaks(everything, [OLD_JWT, REFRESH, env.JWT_SECRET!, env.JWT_REFRESH_SECRET!, 'unmanaged-value-0123456789abcdef'])).toEqual(
      [],
    );
  });

  it('refuses a truncated report, naming it, with nothing rotated and no value printed (exit 2)', async () => {
    const text = readFileSync(report, 'utf8');
    const cut = join(scratchDir('rotate-report-'), 'cut.json');
    writeFileSync(cut, text.slice(0, Math.floor(text.length / 2)));
    const before = project.jwt();
    const result = await runCli(['leak', '--from', cut, '--yes', '--json'], { cwd: project.dir });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error).toMatchObject({ code: 'LEAK_REPORT_INVALID' });
    expect(result.stderr).toContain('truncated');
    expect(project.jwt()).toBe(before);
    expect(findLeaks({ out: result.stdout + result.stderr }, [OLD_JWT, before!])).toEqual([]);
  });
});
