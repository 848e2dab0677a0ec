// The real dotenvx CLI (devDependency @dotenvx/dotenvx) as the oracle for encrypted env files: what it writes, rotate
// must read; what rotate writes, it must read back. Run with a bare environment (PATH, HOME) so that no variable of
// the test process (a DOTENV_PRIVATE_KEY, a value of the same name, which dotenvx prefers to the file's) decides.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './cli.js';

const run = promisify(execFile);
export const DOTENVX = join(ROOT, 'node_modules/.bin/dotenvx');

export interface DotenvxResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function dotenvx(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<DotenvxResult> {
  const env = { PATH: process.env.PATH ?? '', HOME: options.cwd, ...options.env };
  try {
    const { stdout, stderr } = await run(DOTENVX, args, { cwd: options.cwd, env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** `dotenvx encrypt -f <file>` in `dir`: encrypts every value, writes the public key header and `.env.keys`. */
export async function dotenvxEncrypt(dir: string, file = '.env'): Promise<void> {
  const result = await dotenvx(['encrypt', '-f', file], { cwd: dir });
  if (result.code !== 0) throw new Error(`dotenvx encrypt failed: ${result.stderr}`);
}

/**
 * Every value of `file` as `dotenvx get -f <file>` decrypts it (JSON). Fails when dotenvx cannot decrypt a value
 * (it then exits 1 and prints the ciphertext).
 */
export async function dotenvxGet(dir: string, file = '.env', env: Record<string, string> = {}): Promise<Record<string, string>> {
  const result = await dotenvx(['get', '-f', file], { cwd: dir, env });
  if (result.code !== 0) throw new Error(`dotenvx get -f ${file} failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, string>;
}
