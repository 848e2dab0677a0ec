import { RotateError } from '../errors.js';
import { SecretValue } from '../secret-value.js';

/** How long a piped stdin may stay silent before rotate stops waiting for it (ROTATE_STDIN_TIMEOUT, seconds). */
const DEFAULT_STDIN_TIMEOUT_SECONDS = 30;

let stdinLines: Promise<Record<string, string>> | undefined;

/**
 * `NAME=value` lines from a piped stdin, read once: until every wanted name has come, or stdin ends. A stdin that
 * stays open and silent (a CI runner's, say) fails after a timeout instead of hanging the rotation forever.
 */
export function readStdinLines(
  wanted: readonly string[],
  input: NodeJS.ReadableStream = process.stdin,
  timeoutSeconds = stdinTimeoutSeconds(),
): Promise<Record<string, string>> {
  stdinLines ??= new Promise((resolve, reject) => {
    const values: Record<string, string> = {};
    let pending = '';
    let timer: NodeJS.Timeout | undefined;
    const finish = (error?: RotateError): void => {
      clearTimeout(timer);
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onError);
      input.pause();
      if (error) reject(error);
      else resolve(values);
    };
    const arm = (): void => {
      clearTimeout(timer);
      // Silence after some values came: go on with those (optional ones may never come). Silence from the start:
      // nobody is handing anything in.
      timer = setTimeout(() => finish(Object.keys(values).length > 0 ? undefined : silent()), timeoutSeconds * 1000);
    };
    const silent = (): RotateError =>
      new RotateError('INPUT_TIMEOUT', `stdin is not a terminal and sent no ${wanted.join(' or ')} line in ${timeoutSeconds}s`, {
        hint: `pipe NAME=value lines and close stdin (printf '${wanted[0] ?? 'NAME'}=%s\\n' "$value" | rotate ...), or set them in rotate's environment; ROTATE_STDIN_TIMEOUT sets the wait in seconds`,
      });
    const take = (line: string): void => {
      const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*?)\s*$/.exec(line);
      if (match) values[match[1]!] = match[2]!;
    };
    const onData = (chunk: Buffer | string): void => {
      const lines = (pending + chunk.toString()).split(/\r?\n/);
      pending = lines.pop()!;
      lines.forEach(take);
      if (wanted.every((name) => name in values)) finish();
      else arm();
    };
    const onEnd = (): void => {
      take(pending);
      finish();
    };
    const onError = (): void => finish();
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
    arm();
  });
  return stdinLines;
}

function stdinTimeoutSeconds(): number {
  const configured = Number(process.env.ROTATE_STDIN_TIMEOUT);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_STDIN_TIMEOUT_SECONDS;
}

/** Forgets what was read (tests read several streams in one process). */
export function forgetStdinLines(): void {
  stdinLines = undefined;
}

/**
 * Secret values an operator hands in: the environment variable of the same name, else `NAME=value` lines on a
 * piped stdin, else a hidden prompt on the terminal. Never a command-line flag (argv is visible to every user).
 * When the environment gives every required value, stdin is not read at all: an open, silent stdin (a CI runner's)
 * must not hold the run up for the optional ones.
 */
export async function readSecretInput(
  names: { name: string; prompt: string; optional?: boolean }[],
  environment: Readonly<Record<string, string | undefined>>,
  unattended: boolean,
): Promise<Record<string, SecretValue>> {
  const out: Record<string, SecretValue> = {};
  const wanted = names.map((n) => n.name).filter((name) => !environment[name]);
  const requiredGiven = names.every((n) => n.optional || environment[n.name]);
  for (const { name, prompt } of names) {
    const fromEnv = environment[name];
    if (fromEnv) {
      out[name] = new SecretValue(fromEnv.trim());
      continue;
    }
    if (unattended || requiredGiven) continue;
    if (!process.stdin.isTTY) {
      const piped = (await readStdinLines(wanted))[name];
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
