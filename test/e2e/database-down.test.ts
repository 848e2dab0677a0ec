// `rotate resume` while the database is down: the error names the connection the server refused, not the admin URL
// or the credentials; once the server is back, resume undoes the interrupted rotation.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { standInApp } from '../helpers/app.js';
import { createAppDatabase, loginWith } from '../helpers/app-database.js';
import { runCli, scratchDir } from '../helpers/cli.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.js';
import { HANGING_RESTART, killInRestart } from '../helpers/wait.js';

const MASTER_KEY = 'e'.repeat(64);
let server: PrivatePostgres;

beforeAll(async () => {
  server = await startPrivatePostgres();
});

afterAll(async () => {
  await server?.stop();
});

it('resume with the database down names the refused connection (not adminUrlEnv); with it back, resume undoes the run', async () => {
  const password = 'Down-Pass-0123456789';
  await createAppDatabase(server, 'app_down', password, 'downdb');
  const dir = scratchDir('rotate-db-down-');
  const url = `postgresql+asyncpg://app_down:${password}@127.0.0.1:${server.port}/downdb`;
  const original = `APP_ENV=production\nDATABASE_URL=${url}\n`;
  writeFileSync(join(dir, '.env'), original);
  const app = await standInApp(dir);
  const configure = (prefix: string) =>
    writeFileSync(
      join(dir, 'rotate.config.json'),
      JSON.stringify({
        services: { backend: { restart: `${prefix}${app.restartCommand}`, health: { url: `${app.url}/healthz`, timeoutSeconds: 15 } } },
        secrets: { database: { kind: 'postgres', services: ['backend'] } },
      }),
    );
  configure(HANGING_RESTART);
  await app.start();
  const cli = (args: string[]) => runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY } });
  try {
    await killInRestart(dir, 'database', ['database', '--yes'], { ROTATE_MASTER_KEY: MASTER_KEY });
    configure('');
    server.halt();
    let resume: Awaited<ReturnType<typeof cli>>;
    try {
      resume = await cli(['resume', '--json']);
    } finally {
      server.start();
    }
    expect(resume.code).toBe(3);
    const text = resume.stdout + resume.stderr;
    expect(text).toContain('POSTGRES_UNREACHABLE');
    expect(text).toContain(`127.0.0.1:${server.port} did not accept a connection`);
    expect(text).toContain('ECONNREFUSED');
    expect(text).not.toContain('adminUrlEnv');
    expect(text).not.toContain(password);

    const again = await cli(['resume', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).results[0].status).toBe('undone');
    expect(await loginWith(url)).toBe('ok');
  } finally {
    await app.stop();
  }
});
