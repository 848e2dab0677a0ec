import type { CheckId } from '../check-ids.js';
import { fetchErrorText } from '../connection/fetch-error.js';
import { type Check, check } from '../core-types.js';
import { NO_REDIRECT, redirectText } from '../http/redirect.js';
import type { RotatorContext } from './types.js';

/**
 * Asks the app itself whether it works with the values it loaded: a GET that must answer 2xx. A static health page
 * proves nothing (PLATFORM.md); point this at a route that uses the secret.
 */
export async function appAnswers(ctx: RotatorContext, id: CheckId, name: string, url: string, hint: string): Promise<Check> {
  try {
    const response = await ctx.deps.fetch(url, { ...NO_REDIRECT, signal: AbortSignal.timeout(10_000) });
    await response.body?.cancel();
    // A redirect (to a login page, say) is not the app answering: the check fails and says where it pointed.
    const redirect = redirectText(response, url);
    if (redirect) return check(id, name, false, `${url} ${redirect}`, hint);
    return check(id, name, response.ok, `${url} answered ${response.status}`, hint);
  } catch (error) {
    return check(id, name, false, `cannot reach ${url}: ${fetchErrorText(error)}`, hint);
  }
}
