// Keys of the env file or Secret that look like credentials and that no secret of the config manages (neither its
// own key, nor a copy it updates, nor a grace or staging key it writes): what `status` lists so that nothing
// secret is forgotten. Names only, never values.
import type { Session } from '../engine/session.js';
import { looksLikeCredential } from '../init/discover.js';
import { envKeysOf } from '../secrets/index.js';

export async function unmanagedCredentials(session: Session): Promise<string[]> {
  const managed = new Set(Object.values(session.config.secrets).flatMap((config) => envKeysOf(config)));
  let values: Readonly<Record<string, string>>;
  try {
    values = (await session.target.read()).values;
  } catch {
    // The table still shows; the secrets' own rows say what is wrong with the target.
    return [];
  }
  return Object.entries(values)
    .filter(([key, value]) => !managed.has(key) && looksLikeCredential(key, value))
    .map(([key]) => key);
}
