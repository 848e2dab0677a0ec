// Every command's --json output has the one shape of schema/rotate.output.schema.json (src/terminal/output-schema.ts):
// on success and on failure, exactly one JSON document on stdout.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputSchema } from '../../src/terminal/output-schema.js';
import { ROOT, runCli, scratchDir } from '../helpers/cli.js';

const SECRET = 'json-output-secret-0123456789-0123456789-ab';

function parseDocument(stdout: string, label: string) {
  const doc = JSON.parse(stdout); // throws when stdout is not exactly one JSON document
  const checked = outputSchema.safeParse(doc);
  expect(checked.success ? [] : checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`), label).toEqual([]);
  return doc;
}

describe('--json output', () => {
  it('every command prints one document of the shipped shape, also on failure', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${SECRET}\n`);
    // A service whose restart does nothing: rotations then deliver (a secret nothing restarts is refused).
    writeFileSync(
      join(dir, 'rotate.config.json'),
      JSON.stringify({ services: { app: { restart: 'true' } }, secrets: { jwt: { services: ['app'] } } }),
    );
    const env = { ROTATE_MASTER_KEY: 'd'.repeat(64) };
    const runs: [string[], number][] = [
      // Never rotated: monitoring's check fails (exit 1), and says why beside the rows.
      [['status', '--check'], 1],
      [['mark', 'jwt', '--rotated-at', '2026-01-01', '--yes'], 0],
      [['status'], 0],
      [['--dry-run', 'jwt'], 0],
      [['jwt', '--yes'], 0],
      [['status', '--check'], 0],
      [['jwt', '--yes', '--no-restart'], 0],
      [['verify', 'jwt'], 0],
      [['history'], 0],
      [['history', '--verify'], 0],
      [['rollback', 'jwt', '--yes'], 0],
      [['resume'], 0],
      [['version'], 0],
      [['metrics'], 0],
      [['backups'], 0],
      [['backups', 'restore', 'no-such-backup', '--to', 'restored.env'], 2],
      [['completion', 'bash'], 0],
      [['completion', 'tcsh'], 2],
      [['help', 'status'], 0],
      [['setup', 'jwt'], 2],
      [['status', '--emergency'], 2],
      [['jwtt', '--yes'], 2],
      [['nope-command'], 2],
      [['help', 'nope'], 2],
    ];
    const commands = new Set<string>();
    for (const [args, code] of runs) {
      const label = `rotate ${args.join(' ')} --json`;
      const result = await runCli([...args, '--json'], { cwd: dir, env });
      expect(result.code, `${label}: ${result.stderr}`).toBe(code);
      const doc = parseDocument(result.stdout, label);
      expect(doc.ok, label).toBe(code === 0);
      expect(doc.exitCode, label).toBe(code);
      // Usage errors carry the error; exit 1 is a verdict (a failed check, status --check) told by the results.
      if (code >= 2) expect(doc.error.code, label).toMatch(/^[A-Z_]+$/);
      commands.add(doc.command);
    }
    expect([...commands].sort()).toEqual([
      'backups',
      'completion',
      'help',
      'history',
      'mark',
      'metrics',
      'resume',
      'rollback',
      'rotate',
      'setup',
      'status',
      'verify',
      'version',
    ]);

    const init = scratchDir();
    const written = await runCli(['init', '--json'], { cwd: init });
    expect(parseDocument(written.stdout, 'init').results[0]).toMatchObject({ path: join(init, 'rotate.config.json'), written: true });
    const refused = await runCli(['init', '--json'], { cwd: init });
    expect(parseDocument(refused.stdout, 'init again')).toMatchObject({ ok: false, error: { code: 'CONFIG_EXISTS' } });
  });

  it('a dry run whose preflight fails says so in its status, not "planned"', async () => {
    const dir = scratchDir();
    // The starter config (init with no env file to start from) names services and URLs that do not answer here.
    expect((await runCli(['init'], { cwd: dir })).code).toBe(0);
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${SECRET}\n`);
    const dry = await runCli(['--dry-run', 'jwt', '--json'], { cwd: dir });
    expect(dry.code).toBe(1);
    const doc = parseDocument(dry.stdout, 'dry run');
    expect(doc.results[0].status).toBe('preflight-failed');
    expect(doc.results[0].checks.some((c: { ok: boolean }) => !c.ok)).toBe(true);
  });

  it('the JSON Schema beside the config schema describes every command', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'schema/rotate.output.schema.json'), 'utf8'));
    const commands = schema.oneOf.map((s: { properties: { command: { const: string } } }) => s.properties.command.const);
    expect(commands).toEqual(expect.arrayContaining(['rotate', 'status', 'history', 'verify', 'rollback', 'resume', 'init']));
    for (const entry of schema.oneOf) expect(entry.required).toEqual(expect.arrayContaining(['schemaVersion', 'command', 'ok', 'results']));
  });
});
