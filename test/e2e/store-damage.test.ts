// The built CLI on a damaged file store: a torn history, a wrong or missing master key, loose permissions.
import { readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type JwtProject, jwtProject } from '../helpers/jwt-project.js';

let project: JwtProject | undefined;
afterEach(async () => {
  await project?.app.stop();
  project = undefined;
});

describe('a damaged history never silences the audit log', () => {
  it('a record cut mid-line is named (file, line) and skipped; the next rotation is readable; nothing is lost', async () => {
    project = await jwtProject();
    const { cli, dir } = project;
    expect((await cli(['jwt', '--yes'])).code).toBe(0);
    expect((await cli(['jwt', '--yes'])).code).toBe(0);
    const path = join(dir, '.rotate/history.jsonl');
    const whole = readFileSync(path, 'utf8');
    // A crash (or a full disk) during the second record's write: it ends half-way, with no end of line.
    const secondStart = whole.indexOf('\n') + 1;
    truncateSync(path, secondStart + Math.floor((whole.length - secondStart) / 2));
    const torn = readFileSync(path);

    const read = await cli(['history', '--json']);
    expect(read.code).toBe(0);
    const doc = JSON.parse(read.stdout);
    expect(doc.results).toHaveLength(1);
    expect(doc.damaged).toEqual([{ file: path, line: 2, error: expect.stringMatching(/^cut off/) }]);
    expect(read.stderr).toContain(`${path} line 2 is damaged`);
    expect(read.stderr).not.toContain('UNEXPECTED');

    const third = await cli(['jwt', '--yes']);
    expect(third.code).toBe(0);
    expect(third.stderr).toContain('line 2 was cut off');
    // The damaged bytes are kept as they were; the new record starts on a line of its own.
    const after = readFileSync(path);
    expect(after.subarray(0, torn.length).equals(torn)).toBe(true);
    const again = await cli(['history', '--json']);
    expect(again.code).toBe(0);
    const next = JSON.parse(again.stdout);
    expect(next.results.map((e: { result: string }) => e.result)).toEqual(['rotated', 'rotated']);
    expect(next.damaged.map((d: { line: number }) => d.line)).toEqual([2]);
    const people = await cli(['history']);
    expect(people.code).toBe(0);
    expect(people.stdout.match(/rotated/g)).toHaveLength(2);
    expect(people.stderr).toContain('line 2 is damaged');
  });
});
