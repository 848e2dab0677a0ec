import { text } from 'node:stream/consumers';
import { RotateError } from '../errors.js';
import { SecretValue } from '../secret-value.js';

let stdinLines: Promise<Record<string, string>> | undefined;

/** `NAME=value` lines from a piped stdin, read once. */
function readStdinLines(): Promise<Record<string, string>> {
  stdinLines ??= text(process.stdin).then((body) => {
    const values: Record<string, string> = {};
    for (const line of body.split(/\r?\n/)) {
      const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*?)\s*$/.exec(line);
      if (match) values[match[1]!] = match[2]!;
    }
    return values;
  });
  return stdinLines;
}

/**
 * Secret values an operator hands in: the environment variable of the same name, else `NAME=value` lines on a
 * piped stdin, else a hidden prompt on the terminal. Never a command-line flag (argv is visible to every user).
 */
export async function readSecretInput(
  names: { name: string; prompt: string }[],
  environment: Readonly<Record<string, string | undefined>>,
  unattended: boolean,
): Promise<Record<string, SecretValue>> {
  const out: Record<string, SecretValue> = {};
  for (const { name, prompt } of names) {
    const fromEnv = environment[name];
    if (fromEnv) {
      out[name] = new SecretValue(fromEnv.trim());
      continue;
    }
    if (unattended) continue;
    if (!process.stdin.isTTY) {
      const piped = (await readStdinLines())[name];
      if (piped) out[name] = new SecretValue(piped);
      continue;
    }
    const { default: password } = await import('@inquirer/password');
    try {
      const answer = await password({ message: prompt, mask: false }, { output: process.stderr });
      if (answer.trim()) out[name] = new SecretValue(answer.trim());
    } catch (error) {
      throw new RotateError('INPUT_CANCELLED', `no value was given for ${name}`, { cause: error });
    }
  }
  return out;
}
