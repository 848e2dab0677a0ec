// The CLI's surface: help, version, init, the confirmation prompt and colour on a terminal, NO_COLOR.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { parseEnv } from '../../src/envfile/edit.js';
import { CLI, findLeaks, ROOT, runCli, scratchDir } from '../helpers/cli.js';
import { dotenvxEncrypt } from '../helpers/dotenvx.js';

const ESC = '\u001b[';
const SECRET = 'cli-test-secret-0123456789-0123456789-abcd';

/**
 * Runs the CLI under a pseudo-terminal (util-linux `script`) and returns the screen; with `answer`, types its keys
 * once its prompt is on the screen. Resolves when the CLI has exited.
 */
function onTerminal(
  dir: string,
  args: string,
  env: Record<string, string> = {},
  answer?: { prompt: string; keys: string },
): Promise<string> {
  return new Promise((resolve, reject) => {
    // The exit code follows the output, as `[exit N]`.
    const child = spawn('script', ['-qec', `node ${CLI} ${args}; echo "[exit $?]"`, '/dev/null'], {
      cwd: dir,
      env: Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([k]) => k !== 'NO_COLOR' || 'NO_COLOR' in env)),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let screen = '';
    let typed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
      if (answer && !typed && screen.includes(answer.prompt)) {
        typed = true;
        child.stdin.write(answer.keys);
      }
    });
    child.on('error', reject);
    child.on('close', () => resolve(screen));
  });
}

/** A rotation needs a service that picks the new value up (no silent non-delivery): one whose restart does nothing. */
function withService(dir: string): void {
  const config = { services: { app: { restart: 'true' } }, secrets: { jwt: { services: ['app'] } } };
  writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config));
}

describe('rotate CLI surface', () => {
  it('--help and --version exit 0 on stdout', async () => {
    const dir = scratchDir();
    const help = await runCli(['--help'], { cwd: dir });
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('rotate every secret whose interval has elapsed');
    for (const command of ['status', 'history', 'verify', 'rollback', 'resume', 'init', 'setup']) expect(help.stdout).toContain(command);
    const version = await runCli(['--version'], { cwd: dir });
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(CLI, '../../../package.json'), 'utf8')).version);
  });

  it("rotate help <kind> points to the kind's page, which ships with the package", async () => {
    for (const [name, page] of [
      ['jwt', 'jwt.md'],
      ['postgres', 'database.md'],
      ['database', 'database.md'],
      ['exchange-key', 'exchange-key.md'],
    ]) {
      const help = await runCli(['help', name as string, '--json'], { cwd: ROOT });
      expect(help.code, name).toBe(0);
      const [entry] = JSON.parse(help.stdout).results;
      expect(entry.page).toBe(join(ROOT, 'docs/secrets', page as string));
      expect(existsSync(entry.page)).toBe(true);
    }
    expect((await runCli(['help', 'jwt'], { cwd: ROOT })).stdout).toContain('jwt is a kind of secret, not a command: its page is ');
    expect((await runCli(['help', 'nope'], { cwd: ROOT })).code).toBe(2);
  });

  it('rotate help, rotate help <command> and rotate version', async () => {
    const dir = scratchDir();
    const help = await runCli(['help'], { cwd: dir });
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('rotate every secret whose interval has elapsed');
    const status = await runCli(['help', 'status'], { cwd: dir });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Usage: rotate status');
    expect(status.stdout).not.toContain('--dry-run');
    expect((await runCli(['status', '--help'], { cwd: dir })).stdout).toBe(status.stdout);
    const version = await runCli(['version'], { cwd: dir });
    expect(version).toMatchObject({ code: 0, stdout: (await runCli(['--version'], { cwd: dir })).stdout });
    const unknown = await runCli(['help', 'stauts'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('did you mean `rotate help status`');
    // None of these read a config or touch the folder.
    expect(existsSync(join(dir, '.rotate'))).toBe(false);
  });

  it("every command's help has examples and the exit codes; rotate --help names the docs", async () => {
    const dir = scratchDir();
    const root = await runCli(['--help'], { cwd: dir });
    const docs = /Docs: (\S+)/.exec(root.stdout)?.[1];
    expect(docs && existsSync(join(docs, 'runbook.md')), root.stdout).toBe(true);
    for (const command of ['status', 'history', 'verify', 'rollback', 'resume', 'setup', 'completion']) {
      const help = await runCli(['help', command], { cwd: dir });
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toContain('Examples:\n  $ rotate');
      expect(help.stdout, command).toContain('Exit codes:\n  0  done');
    }
    // init rotates nothing: it says its own two codes only.
    const init = await runCli(['help', 'init'], { cwd: dir });
    expect(init.stdout).toContain('--from-kubernetes');
    expect(init.stdout).toMatch(/Exit codes:\n {2}0 {2}the config was written[^\n]*\n {2}2 {2}bad usage[^\n]*\n*$/);
    // Commands whose exit 0 and 1 mean something of their own say so, keeping the other codes.
    const check = await runCli(['help', 'check'], { cwd: dir });
    expect(check.stdout).toContain(
      'Exit codes:\n  0  no error-level finding stands (warnings may)\n  1  an error-level finding stands\n  2  bad usage',
    );
    expect((await runCli(['help', 'leak'], { cwd: dir })).stdout).toContain('  1  a finding matched no managed secret');
  });

  it('rotate completion prints a script each shell accepts, from the same commands and options', async () => {
    const dir = scratchDir();
    const bash = await runCli(['completion', 'bash'], { cwd: dir });
    expect(bash.code).toBe(0);
    writeFileSync(join(dir, 'c.bash'), bash.stdout);
    const complete = (words: string) =>
      execFileSync(
        'bash',
        ['-c', `source c.bash; COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _rotate; echo "\${COMPREPLY[*]}"`],
        {
          cwd: dir,
          encoding: 'utf8',
        },
      ).trim();
    expect(complete('rotate sta')).toBe('status');
    expect(complete('rotate status --ch')).toBe('--check');
    expect(complete('rotate jw')).toBe('jwt');
    expect((await runCli(['completion', 'zsh'], { cwd: dir })).stdout).toContain('#compdef rotate');
    expect((await runCli(['completion', 'fish'], { cwd: dir })).stdout).toContain('complete -c rotate -n __fish_use_subcommand -a status');
    expect((await runCli(['completion', 'tcsh'], { cwd: dir })).code).toBe(2);
  });

  it('each command accepts only its own options and the global ones (exit 2 otherwise)', async () => {
    const dir = scratchDir();
    for (const args of [
      ['status', '--emergency'],
      ['--yes', 'status'],
      ['history', '--dry-run'],
      ['init', '--due'],
    ]) {
      const result = await runCli(args, { cwd: dir });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^\[USAGE\] --[a-z-]+ is not an option of rotate /);
    }
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${SECRET}\n`);
    const json = await runCli(['status', '--emergency', '--json'], { cwd: dir });
    expect(json.code).toBe(2);
    // The error names the command it is about, says whose option it is and where that command's options are listed.
    expect(JSON.parse(json.stdout)).toMatchObject({
      command: 'status',
      ok: false,
      exitCode: 2,
      error: {
        code: 'USAGE',
        message: '--emergency is not an option of rotate status; it is an option of a rotation (rotate --help lists them)',
        hint: 'rotate help status shows its usage and options',
      },
    });
    expect(json.stderr).toBe(
      '[USAGE] --emergency is not an option of rotate status; it is an option of a rotation (rotate --help lists them)\nhint: rotate help status shows its usage and options\n',
    );
    const typo = await runCli(['status', '--chek'], { cwd: dir });
    expect(typo.stderr).toContain('[USAGE] --chek is not an option of rotate status; did you mean `--check`?\n');
    // A bad option value says what is expected and points at that command's help (was: "Invalid input", "see rotate help").
    for (const [args, expected] of [
      [
        ['agent', '--once', '--interval', 'abc'],
        '[USAGE] --interval: expected a number of seconds above 0, at most 86400\nhint: rotate help agent shows its usage and options\n',
      ],
      [
        ['agent', '--once', '--interval', '0'],
        '[USAGE] --interval: expected a number of seconds above 0, at most 86400\nhint: rotate help agent shows its usage and options\n',
      ],
      [
        ['history', '--limit', 'x'],
        '[USAGE] --limit: expected a whole number above 0\nhint: rotate help history shows its usage and options\n',
      ],
    ] as const) {
      const bad = await runCli([...args], { cwd: dir });
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr, args.join(' ')).toBe(expected);
    }
    const missing = await runCli(['completion'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("[USAGE] missing required argument 'shell'\nhint: rotate help completion shows its usage and options\n");
    // The global options are accepted before and after a command's name.
    for (const args of [
      ['status', '--json'],
      ['--json', 'status'],
      ['status', '--quiet', '--verbose', '--json'],
    ]) {
      const result = await runCli(args, { cwd: dir });
      expect(result.code, args.join(' ')).toBe(0);
      expect(JSON.parse(result.stdout).command).toBe('status');
    }
  });

  it('a typo in a secret or a command gets a "did you mean" and exit 2', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${SECRET}\n`);
    const secret = await runCli(['jwtt', '--yes'], { cwd: dir });
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain('did you mean `jwt`');
    const command = await runCli(['statsu'], { cwd: dir });
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('did you mean `status`');
    const history = await runCli(['history', 'jwtt', '--json'], { cwd: dir });
    expect(history.code).toBe(2);
    expect(JSON.parse(history.stdout).error).toMatchObject({ code: 'UNKNOWN_SECRET' });
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(`JWT_SECRET=${SECRET}\n`);
  });

  it('init reads a dotenvx-encrypted env file with its key: the database and Redis URLs decide their secrets as in plaintext', async () => {
    const dir = scratchDir();
    const password = 'init-dotenvx-pg-password-0123456789';
    writeFileSync(
      join(dir, '.env'),
      `DATABASE_URL=postgresql://app:${password}@db:5432/app\nPOSTGRES_PASSWORD=${password}\nREDIS_URL=redis://:init-dotenvx-redis-0123456789@redis:6379/0\nJWT_SECRET=${SECRET}\n`,
    );
    await dotenvxEncrypt(dir);
    const init = await runCli(['init'], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    const written = JSON.parse(readFileSync(join(dir, 'rotate.config.json'), 'utf8'));
    expect(Object.keys(written.secrets)).toEqual(['jwt', 'database', 'redis']);
    expect(written.secrets.database.alsoUpdate).toEqual(['POSTGRES_PASSWORD']);
    expect(
      findLeaks({ stdout: init.stdout, stderr: init.stderr, config: readFileSync(join(dir, 'rotate.config.json'), 'utf8') }, [
        password,
        SECRET,
      ]),
    ).toEqual([]);
  });

  it('init writes a valid starter config and will not overwrite it without --force', async () => {
    const dir = scratchDir();
    const first = await runCli(['init'], { cwd: dir });
    expect(first.code).toBe(0);
    const written = JSON.parse(readFileSync(join(dir, 'rotate.config.json'), 'utf8'));
    expect(configSchema.safeParse(written).success).toBe(true);
    expect(Object.keys(written.secrets)).toEqual(['jwt', 'exchange-key', 'database', 'redis', 'stripe']);
    writeFileSync(join(dir, 'rotate.config.json'), '{}');
    const again = await runCli(['init'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--force');
    expect(readFileSync(join(dir, 'rotate.config.json'), 'utf8')).toBe('{}');
    expect((await runCli(['init', '--force'], { cwd: dir })).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'rotate.config.json'), 'utf8')).secrets.jwt.kind).toBe('jwt');
    // The starter config names real services and URLs; a dry run with it fails on reachability, not on the config.
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${SECRET}\n`);
    const dry = await runCli(['--dry-run', 'jwt', '--json'], { cwd: dir });
    expect(dry.code).toBe(1);
    expect(JSON.parse(dry.stdout).results[0].status).toBe('preflight-failed');
  });

  it("init in the platform's folder (.env + docker-compose.yml) manages every secret, names what only a person can give, prints no value", async () => {
    const dir = scratchDir();
    cpSync(join(ROOT, 'test/fixtures/platform-compose'), dir, { recursive: true });
    const values = Object.entries(parseEnv(readFileSync(join(dir, '.env'), 'utf8')))
      .filter(([key, value]) => /SECRET|PASSWORD|KEY|URL/.test(key) && value !== '')
      .flatMap(([, value]) => [value, Buffer.from(value).toString('base64')]);
    const result = await runCli(['init', '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    const [entry] = JSON.parse(result.stdout).results;
    expect(entry.undecided.map((u: { path: string }) => u.path)).toEqual(['secrets.jwt.verify.claims', 'secrets.stripe.webhook.url']);
    expect(entry.unmanaged).toContain('WALLET_ENCRYPTION_KEY');
    expect(result.stderr).toContain('only you can give');
    const written = JSON.parse(readFileSync(join(dir, 'rotate.config.json'), 'utf8'));
    expect(configSchema.safeParse(written).success).toBe(true);
    expect(Object.keys(written.secrets)).toEqual(['jwt', 'jwt-refresh', 'exchange-key', 'database', 'redis', 'stripe']);
    expect(written.secrets.redis.services).toEqual(['backend', 'celery-worker', 'celery-beat', 'redis']);
    // The env file as target.files: the deprecated top-level envFile is read, no longer written.
    expect(written.target).toEqual({ type: 'envfile', files: ['.env'] });
    expect(written.envFile).toBeUndefined();
    // status names the credentials no secret manages, by name only.
    const status = await runCli(['status', '--json'], { cwd: dir, env: { ROTATE_MASTER_KEY: 'c'.repeat(64) } });
    expect(JSON.parse(status.stdout).unmanaged).toEqual(['WALLET_ENCRYPTION_KEY', 'SMTP_PASSWORD']);
    // The config is accepted: the dry run fails on reachability (nothing runs here), not on the config (exit 2).
    const dry = await runCli(['--dry-run', '--all', '--json'], { cwd: dir, env: { ROTATE_MASTER_KEY: 'c'.repeat(64) } });
    expect(dry.code).toBe(1);
    expect(findLeaks({ out: result.stdout + result.stderr + status.stdout, config: JSON.stringify(written) }, values)).toEqual([]);
  });

  it('on a terminal it asks first; answering no changes nothing', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${SECRET}\n`);
    const screen = await onTerminal(dir, 'jwt', {}, { prompt: 'now?', keys: 'n\r' });
    // The plan and what it costs come before the question.
    const question = screen.indexOf('Rotate jwt now?');
    expect(question).toBeGreaterThan(0);
    expect(screen.slice(0, question)).toContain('jwt (jwt): writes JWT_SECRET');
    expect(screen.slice(0, question)).toContain('every signed-in user is logged out');
    expect(screen).toContain('[CANCELLED]');
    // Nothing changed: exit 2, like every other refusal before a change.
    expect(screen).toContain('[exit 2]');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(`JWT_SECRET=${SECRET}\n`);
    expect(existsSync(join(dir, '.rotate/history.jsonl'))).toBe(false);
  });

  it('on a terminal answering yes rotates; colour only without NO_COLOR; never with a pipe', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${SECRET}\n`);
    withService(dir);
    const screen = await onTerminal(dir, 'jwt', { ROTATE_MASTER_KEY: 'c'.repeat(64) }, { prompt: 'now?', keys: 'y\r' });
    expect(screen).toContain('rotated, not verified in the app');
    expect(screen).toContain(`${ESC}32m`);
    expect(readFileSync(join(dir, '.env'), 'utf8')).not.toContain(SECRET);

    const status = await onTerminal(dir, 'status', { NO_COLOR: '1', ROTATE_MASTER_KEY: 'c'.repeat(64) });
    expect(status).toContain('jwt');
    const piped = await runCli(['verify', 'jwt'], { cwd: dir, env: { NO_COLOR: undefined, ROTATE_MASTER_KEY: 'c'.repeat(64) } });
    expect(piped.code).toBe(0);
    expect(piped.stdout + piped.stderr).not.toContain(ESC);
  });

  it('off a terminal an explicit rotation or rollback needs --yes (exit 2, nothing touched); --due never asks', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${SECRET}\n`);
    withService(dir);
    for (const args of [['jwt'], ['--all'], ['rollback', 'jwt'], ['jwt', '--json']]) {
      const result = await runCli(args, { cwd: dir });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain('[CONSENT_REQUIRED]');
      expect(result.stderr, args.join(' ')).toContain('--yes');
    }
    expect(JSON.parse((await runCli(['jwt', '--json'], { cwd: dir })).stdout).error.code).toBe('CONSENT_REQUIRED');
    // The hint is the command as typed, with --yes: copied, it runs what was asked (options, quoted reason and all).
    for (const [args, hint] of [
      [['jwt', '--no-restart'], 'rotate jwt --no-restart --yes'],
      [['mark', 'jwt', '--rotated-at', '2026-11-01'], 'rotate mark jwt --rotated-at 2026-11-01 --yes'],
      [['jwt', '--emergency', '--reason', "key in a CI log, Bob's"], `rotate jwt --emergency --reason 'key in a CI log, Bob'\\''s' --yes`],
    ] as const) {
      const result = await runCli([...args], { cwd: dir });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(
        `hint: add --yes to say yes here (cron uses rotate --due, which never asks): ${hint}\n`,
      );
    }
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(`JWT_SECRET=${SECRET}\n`);
    expect(existsSync(join(dir, '.rotate'))).toBe(false);
    // A dry run changes nothing and needs no consent.
    expect((await runCli(['--dry-run', 'jwt'], { cwd: dir })).code).toBe(0);
  });

  it('a missing env file is exit 2 for status, verify, --due and dry runs, and a rotation leaves no .rotate/', async () => {
    const dir = scratchDir();
    for (const args of [['status'], ['verify'], ['--due'], ['--dry-run', '--all'], ['jwt', '--yes'], ['status', '--json']]) {
      const result = await runCli(args, { cwd: dir });
      expect(result.code, args.join(' ')).toBe(2);
      // It names the path it looked at.
      expect(result.stderr, args.join(' ')).toContain(`[ENV_FILE_MISSING] the env file ${join(dir, '.env')} does not exist`);
    }
    expect(existsSync(join(dir, '.rotate'))).toBe(false);
  });

  it('an env file that cannot be read (a folder) is exit 2 like a missing one, naming it; nothing is left behind', async () => {
    const dir = scratchDir();
    mkdirSync(join(dir, '.env'));
    for (const args of [['status'], ['status', '--check'], ['verify'], ['--dry-run', '--all'], ['jwt', '--yes']]) {
      const result = await runCli(args, { cwd: dir });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(`[ENV_READ] the env file ${join(dir, '.env')} is a folder, not a file`);
    }
    const json = await runCli(['status', '--json'], { cwd: dir });
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { code: 'ENV_READ' } });
    expect(existsSync(join(dir, '.rotate'))).toBe(false);
  });

  it('a config path that is a folder is exit 2 saying so, for --config and for rotate.config.json', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${SECRET}\n`);
    mkdirSync(join(dir, 'conf'));
    const explicit = await runCli(['status', '--config', 'conf'], { cwd: dir });
    expect(explicit.code).toBe(2);
    expect(explicit.stderr).toContain(`[CONFIG_UNREADABLE] the config file ${join(dir, 'conf')} is a folder, not a file`);
    mkdirSync(join(dir, 'rotate.config.json'));
    const found = await runCli(['status', '--json'], { cwd: dir });
    expect(found.code).toBe(2);
    expect(JSON.parse(found.stdout).error.message).toContain(`${join(dir, 'rotate.config.json')} is a folder, not a file`);
  });

  it('hints name real config paths, never a placeholder such as services.<name> or secrets.<id>', async () => {
    const placeholder = /[A-Za-z]\.<[a-z]+>/;
    // The built-in defaults: nothing restarts the app, so rotate says how to name a service (rotate init writes one).
    const defaults = scratchDir();
    writeFileSync(join(defaults, '.env'), `JWT_SECRET=${SECRET}\n`);
    // A config with a service that jwt does not list: the hint names that service.
    const configured = scratchDir();
    writeFileSync(join(configured, '.env'), `JWT_SECRET=${SECRET}\n`);
    writeFileSync(join(configured, 'rotate.config.json'), JSON.stringify({ services: { web: { restart: 'true' } }, secrets: { jwt: {} } }));
    for (const [dir, args, service] of [
      [defaults, ['--dry-run', 'jwt'], 'backend'],
      [defaults, ['jwt', '--yes'], 'backend'],
      [configured, ['--dry-run', 'jwt', '--json'], 'web'],
      [configured, ['jwt', '--yes', '--json'], 'web'],
    ] as const) {
      const result = await runCli([...args], { cwd: dir });
      const label = `${dir === defaults ? 'defaults' : 'config'}: rotate ${args.join(' ')}`;
      expect(result.code, label).toBe(args[0] === '--dry-run' ? 1 : 2);
      expect(`${result.stdout}\n${result.stderr}`, label).not.toMatch(placeholder);
      expect(`${result.stdout}\n${result.stderr}`, label).toContain(`services.${service}`);
    }
  });

  it('a reader that closes stderr early (2>&1 | head -1) does not change the exit code', async () => {
    const dir = scratchDir();
    mkdirSync(join(dir, '.env'));
    const child = spawn(process.execPath, [CLI, 'status'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    // Closed before rotate has started: each line it writes to stderr meets a closed pipe (EPIPE).
    child.stderr.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
  });

  it('on a terminal --due rotates without asking', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${SECRET}\n`);
    withService(dir);
    const screen = await onTerminal(dir, '--due', { ROTATE_MASTER_KEY: 'c'.repeat(64) });
    expect(screen).not.toContain('now?');
    expect(screen).toContain('rotated, not verified in the app');
    expect(readFileSync(join(dir, '.env'), 'utf8')).not.toContain(SECRET);
  });

  it('NO_COLOR on a terminal: no colour in results', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${SECRET}\n`);
    const screen = await onTerminal(dir, 'verify jwt', { NO_COLOR: '1' });
    expect(screen).toContain('verified');
    expect(screen).not.toContain(`${ESC}32m`);
  });
});
