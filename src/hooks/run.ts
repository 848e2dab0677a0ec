import type { EngineDeps } from '../engine/session.js';
import { RotateError } from '../errors.js';
import { redact, type SecretValue } from '../secret-value.js';
import { safeCommand, traced } from '../trace.js';
import type { HookConfig, HookPoint } from './schema.js';

/** The values a hook may see: only in its environment, never in its argv. */
export interface HookValues {
  newValue?: SecretValue | undefined;
  oldValue?: SecretValue | undefined;
}

/** The variables a hook's command gets (CONTRACT.md: ROTATE_NEW_VALUE / ROTATE_OLD_VALUE). */
export function hookEnvironment(secret: string, point: HookPoint, values: HookValues): Record<string, string> {
  return {
    ROTATE_SECRET: secret,
    ROTATE_HOOK: point,
    ...(values.newValue ? { ROTATE_NEW_VALUE: values.newValue.reveal() } : {}),
    ...(values.oldValue ? { ROTATE_OLD_VALUE: values.oldValue.reveal() } : {}),
  };
}

/**
 * Every form of the values a hook could print (raw, base64, base64url, hex, URL-encoded) replaced by `[redacted]`,
 * then every value this process knows (`redact`). A hook that echoes `$ROTATE_NEW_VALUE` prints nothing of it.
 */
export function redactHookOutput(text: string, values: HookValues): string {
  const forms = [values.newValue, values.oldValue]
    .filter((v): v is SecretValue => v !== undefined && v.length >= 4)
    .flatMap((v) => {
      const raw = v.reveal();
      const bytes = Buffer.from(raw);
      return [raw, bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), encodeURIComponent(raw)];
    })
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join('[redacted]');
  return redact(out);
}

/** The last lines of what a hook printed, redacted: for an error's hint. */
const tail = (text: string, values: HookValues) => redactHookOutput(text, values).trim().split('\n').slice(-5).join('\n');

/**
 * Runs one hook: `/bin/sh -c <run>` in the config's folder, the values in ROTATE_NEW_VALUE / ROTATE_OLD_VALUE, no
 * credential variable of rotate's own, killed with its process group after `timeoutSeconds`. Throws HOOK_TIMEOUT or
 * HOOK_FAILED naming the secret, the hook and its config path; what it printed is shown only redacted.
 */
export async function runHook(
  secret: string,
  point: HookPoint,
  hook: HookConfig,
  values: HookValues,
  configDir: string,
  deps: EngineDeps,
): Promise<void> {
  const path = `secrets.${secret}.hooks.${point}`;
  deps.log.info(`hook ${point} of ${secret}: running`);
  const result = await traced(
    `hook ${point} of ${secret}: /bin/sh -c ${JSON.stringify(safeCommand(hook.run))} in ${configDir} (up to ${hook.timeoutSeconds} s)`,
    () => deps.runCommand(hook.run, configDir, { env: hookEnvironment(secret, point, values), timeoutMs: hook.timeoutSeconds * 1000 }),
    (r) => (r.timedOut ? 'timed out' : `exit ${r.code}`),
  );
  const printed = `${result.stderr}${result.stdout}`;
  if (result.timedOut) {
    throw new RotateError('HOOK_TIMEOUT', `hook ${point} of ${secret} did not finish within ${hook.timeoutSeconds}s; it was killed`, {
      hint: `raise ${path}.timeoutSeconds if it is only slow, or make it end; it printed:\n${tail(printed, values)}`,
    });
  }
  if (result.code !== 0) {
    throw new RotateError('HOOK_FAILED', `hook ${point} of ${secret} exited with ${result.code}`, {
      hint: `fix ${path}.run; it printed:\n${tail(printed, values)}`,
    });
  }
  const shown = redactHookOutput(printed, values).trim();
  if (shown) deps.log.debug(`hook ${point} of ${secret} printed:\n${shown}`);
}
