// NAME=value lines on a piped stdin: read until every wanted name came or stdin ended; never wait forever.
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RotateError } from '../../src/errors.js';
import { forgetStdinLines, readSecretInput, readStdinLines } from '../../src/terminal/secret-input.js';

const WANTED = ['NEW_KEY', 'NEW_PUBLIC'];

describe('readStdinLines', () => {
  afterEach(() => forgetStdinLines());

  it('reads lines split across chunks and stops at the end of stdin', async () => {
    const input = new PassThrough();
    const read = readStdinLines(WANTED, input, 5);
    input.write('# a comment\nNEW_K');
    input.write('EY=sk_test_abc \r\nOTHER=x\n');
    input.end('NEW_PUBLIC=pk_test_def');
    expect(await read).toEqual({ NEW_KEY: 'sk_test_abc', OTHER: 'x', NEW_PUBLIC: 'pk_test_def' });
  });

  it('goes on as soon as every wanted name came, though stdin stays open', async () => {
    const input = new PassThrough();
    const started = Date.now();
    const read = readStdinLines(WANTED, input, 5);
    input.write('NEW_KEY=a\nNEW_PUBLIC=b\n');
    expect(await read).toEqual({ NEW_KEY: 'a', NEW_PUBLIC: 'b' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(input.isPaused()).toBe(true);
  });

  it('a stdin that stays open and silent fails after the timeout, naming what it waited for', async () => {
    const input = new PassThrough();
    const started = Date.now();
    const error = await readStdinLines(WANTED, input, 0.3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RotateError);
    expect((error as RotateError).code).toBe('INPUT_TIMEOUT');
    expect((error as RotateError).message).toContain('NEW_KEY or NEW_PUBLIC');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('silence after some values came goes on with those (the rest may be optional)', async () => {
    const input = new PassThrough();
    const read = readStdinLines(WANTED, input, 0.3);
    input.write('NEW_KEY=only-this\n');
    expect(await read).toEqual({ NEW_KEY: 'only-this' });
  });

  it('is read once: a second caller gets the same values', async () => {
    const input = new PassThrough();
    const first = readStdinLines(WANTED, input, 5);
    input.end('NEW_KEY=k\n');
    await first;
    expect(await readStdinLines(WANTED, new PassThrough(), 5)).toEqual({ NEW_KEY: 'k' });
  });
});

describe('readSecretInput', () => {
  afterEach(() => {
    forgetStdinLines();
    vi.restoreAllMocks();
  });

  it('does not read stdin at all when the environment gives every required value (an open, silent stdin)', async () => {
    const tty = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
    Object.defineProperty(process.stdin, 'isTTY', { value: false, configurable: true });
    const listened = vi.spyOn(process.stdin, 'on');
    try {
      const names = [
        { name: 'ROTATE_NEW_STRIPE_SECRET_KEY', prompt: 'secret' },
        { name: 'ROTATE_NEW_STRIPE_PUBLISHABLE_KEY', prompt: 'publishable', optional: true },
      ];
      const values = await readSecretInput(names, { ROTATE_NEW_STRIPE_SECRET_KEY: 'sk_test_from_env_123 ' }, false);
      expect(Object.keys(values)).toEqual(['ROTATE_NEW_STRIPE_SECRET_KEY']);
      expect(values.ROTATE_NEW_STRIPE_SECRET_KEY?.reveal()).toBe('sk_test_from_env_123');
      expect(listened).not.toHaveBeenCalled();
    } finally {
      if (tty) Object.defineProperty(process.stdin, 'isTTY', tty);
      else delete (process.stdin as { isTTY?: boolean }).isTTY;
    }
  });
});
