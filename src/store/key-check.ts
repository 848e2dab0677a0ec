import { timingSafeEqual } from 'node:crypto';
import { RotateError } from '../errors.js';
import type { Vault } from './vault.js';

/**
 * A key check is a MAC of a constant under the master key: it tells the right key from a wrong one before anything
 * is sealed, and reveals nothing about the key (a MAC of a public constant, under a key derived for this purpose).
 */
const CHECKED_TEXT = 'rotate master key check v1';

export const keyCheckOf = (vault: Vault): string => vault.mac('key-check', CHECKED_TEXT);

export function sameCheck(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The store's sealed data was written under another key: exit 2 (3 while a run waits for resume); nothing changed. */
export function keyMismatch(source: string, where: string, pending: boolean, hint: string): RotateError {
  return new RotateError(
    pending ? 'PENDING_RUN_KEY_MISMATCH' : 'MASTER_KEY_MISMATCH',
    `the master key from ${source} is not the key that sealed ${where}; nothing was changed`,
    { hint },
  );
}
