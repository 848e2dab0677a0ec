// `rotate setup database` follows the configured strategy (#25 item 8): alternate-roles has a one-time layout to print
// or apply; alter-password has none, so rotate says so (SETUP_NOT_NEEDED, exit 2) instead of printing roles nothing uses.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { SecretConfig } from '../../src/config/schema.js';
import { loadSetup } from '../../src/secrets/index.js';
import { runCli, scratchDir } from '../helpers/cli.js';

it('only the alternate-roles strategy has a one-time setup', async () => {
  const postgres = (strategy: string) => ({ kind: 'postgres', env: 'DATABASE_URL', strategy }) as unknown as SecretConfig;
  expect(await loadSetup(postgres('alter-password'))).toBeUndefined();
  expect(await loadSetup(postgres('alternate-roles'))).toMatchObject({ describe: expect.any(Function), apply: expect.any(Function) });
});

it('rotate setup database with alter-password says there is nothing to set up (exit 2), and prints no SQL', async () => {
  const dir = scratchDir();
  writeFileSync(join(dir, '.env'), 'DATABASE_URL=postgresql://app:pw-not-shown-91@127.0.0.1:5432/test\n', { mode: 0o600 });
  writeFileSync(
    join(dir, 'rotate.config.json'),
    JSON.stringify({ secrets: { database: { kind: 'postgres', strategy: 'alter-password', services: [] } } }),
  );
  const result = await runCli(['setup', 'database'], { cwd: dir });
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr).toContain('[SETUP_NOT_NEEDED] database uses strategy alter-password, which needs no one-time setup');
  expect(result.stdout).not.toContain('CREATE ROLE');
  expect(result.stdout + result.stderr).not.toContain('pw-not-shown-91');
});
