// The built CLI on an env file saved with a UTF-8 byte order mark (Notepad, some Windows editors): the mark belongs
// to the file, so the first key's line is rotated in place and the old secret leaves the file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { findLeaks, readTree } from '../helpers/cli.js';
import { type JwtProject, jwtProject, OLD_JWT } from '../helpers/jwt-project.js';

let project: JwtProject | undefined;
afterEach(async () => {
  await project?.app.stop();
  project = undefined;
});

const BOM = '\uFEFF';
const TEXT = `${BOM}JWT_SECRET=${OLD_JWT}\r\nAPP_ENV=production\r\n`;

it('rotates the key right after the BOM in place: one JWT_SECRET line, the BOM kept, the old secret gone; rollback gives the bytes back', async () => {
  project = await jwtProject({ envText: TEXT });
  const { cli, dir } = project;
  const result = await cli(['jwt', '--yes', '--json']);
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout).results[0].status).toBe('rotated');
  const after = readFileSync(join(dir, '.env'), 'utf8');
  const next = project.jwt()!;
  expect(next).not.toBe(OLD_JWT);
  expect(after).toBe(TEXT.replace(OLD_JWT, next));
  expect(after.match(/JWT_SECRET/g)).toHaveLength(1);
  expect(after).not.toContain(OLD_JWT);
  expect(findLeaks({ ...readTree(join(dir, '.rotate')), stdout: result.stdout, stderr: result.stderr }, [OLD_JWT, next])).toEqual([]);

  const back = await cli(['rollback', 'jwt', '--yes', '--json']);
  expect(back.code).toBe(0);
  expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(TEXT);
});

it('a value written as a reference to another variable is reported (file and line) before it is replaced with a plain value', async () => {
  const text = `APP_ENV=production\nJWT_SECRET=\${BASE_SECRET}-0123456789-abcdefghijklmnop\n`;
  project = await jwtProject({ envText: text });
  const { cli, dir } = project;
  const result = await cli(['jwt', '--yes']);
  expect(result.code, result.stderr).toBe(0);
  const warning = result.stderr.indexOf(`${join(dir, '.env')}:2: JWT_SECRET is written as \${BASE_SECRET}`);
  expect(warning).toBeGreaterThanOrEqual(0);
  expect(warning).toBeLessThan(result.stderr.indexOf('restarting backend'));
  expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(`APP_ENV=production\nJWT_SECRET=${project.jwt()}\n`);
});
