import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';

export const LISTS = ['secrets', 'backups'] as const;
export type ListName = (typeof LISTS)[number];

/**
 * The words a completion script asks for at completion time (`rotate completion --list secrets|backups`): the secret
 * ids of the config in `cwd`, or the ids of the file store's backups (names of files, never their content, so no
 * master key). Never throws: a missing or broken config, or a postgres store (a network call on each TAB), gives [].
 */
export async function completionWords(list: ListName, cwd: string): Promise<string[]> {
  try {
    const { loadConfig } = await import('../config/load.js');
    const { config, dir } = await loadConfig({ cwd });
    if (list === 'secrets') return Object.keys(config.secrets);
    if (config.store.type !== 'file') return [];
    const names = await readdir(resolve(dir, config.store.dir, 'backups'));
    return names
      .filter((name) => name.endsWith('.enc'))
      .map((name) => name.slice(0, -'.enc'.length))
      .sort()
      .reverse();
  } catch {
    return [];
  }
}
