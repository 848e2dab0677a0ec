// A run whose restart fails, and whose rollback's restart fails again: the error says each thing once (#25 item 5).
// The real engine, file store and env editor; the restart command is a fake that prints and fails.
import { describe, expect, it } from 'vitest';
import { rotateSet } from '../../src/engine/pipeline.js';
import { rollbackFailed } from '../../src/engine/result.js';
import { errorLines } from '../../src/terminal/render.js';
import { memoryRotator } from '../helpers/memory-rotator.js';
import { testSession } from '../helpers/session.js';

const OLD = 'old-value-0123456789-0123456789-abcdef';
const NEW = 'new-value-9876543210-9876543210-zyxwvu';

/** A session whose restart command prints `outputs[n]` at its nth run and exits 7. */
function failingRestarts(outputs: string[]) {
  const session = testSession({ rotator: memoryRotator(OLD, NEW) });
  let runs = 0;
  session.deps.runCommand = async () => ({ code: 7, stdout: '', stderr: outputs[Math.min(runs++, outputs.length - 1)]! });
  return session;
}

const count = (text: string, part: string) => text.split(part).length - 1;

describe('a restart that fails, and fails again in the rollback', () => {
  it('shows the command and what it printed once', async () => {
    const [result] = await rotateSet(failingRestarts(['compose: no such service backend\nexit status 1\n']), ['jwt']);
    expect(result).toMatchObject({ status: 'rollback-failed', error: { code: 'ROLLBACK_FAILED' } });
    const text = errorLines(result!.error!).join('\n');
    expect(count(text, 'exited with 7')).toBe(1);
    expect(count(text, 'no such service backend')).toBe(1);
    expect(result!.error!.message).toBe('the restart command of service app exited with 7, and again while rolling back');
    // What the command printed keeps its lines, indented under the hint; the way on is the hint's last line.
    expect(errorLines(result!.error!)).toEqual([
      '[ROLLBACK_FAILED] the restart command of service app exited with 7, and again while rolling back',
      'hint: check services.app.restart in the config; it printed:',
      '  compose: no such service backend',
      '  exit status 1',
      '  fix the cause, then run `rotate resume`: it finishes the rollback (`rotate status` shows the run)',
    ]);
  });

  it('shows each output once, said whose, when the rollback printed something else', async () => {
    const [result] = await rotateSet(failingRestarts(['first failure\n', 'second failure\n']), ['jwt']);
    const text = errorLines(result!.error!).join('\n');
    expect(count(text, 'first failure')).toBe(1);
    expect(count(text, 'second failure')).toBe(1);
    expect(text).toContain('hint: the run: check services.app.restart in the config; it printed:');
    expect(text).toContain('  the rollback: check services.app.restart in the config; it printed:');
  });

  it('rollbackFailed: two different failures keep both messages; a hint of one side alone is kept as it is', () => {
    const info = rollbackFailed(
      { code: 'VERIFY_FAILED', message: 'jwt: verify failed' },
      { code: 'X', message: 'restore failed', hint: 'h' },
    );
    expect(info).toEqual({
      code: 'ROLLBACK_FAILED',
      message: 'jwt: verify failed; rolling back failed too: restore failed',
      hint: 'h\nfix the cause, then run `rotate resume`: it finishes the rollback (`rotate status` shows the run)',
    });
  });
});
