// What every kind's fact sentences share: reading facts defensively (they come back from the journal, the state and
// records written by older versions) and writing counts and lists as words.
import type { JsonValue } from '../core-types.js';

export type Facts = Readonly<Record<string, JsonValue>>;

/**
 * How far the run got when its facts are read out: a plan or a run stopped before any change (`plan`), a finished
 * rotation, rollback or retirement (`done`), or a value written and not applied, its old value kept (`written`).
 */
export type FactsMoment = 'plan' | 'done' | 'written';

export const textOf = (value: JsonValue | undefined): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;
export const countOf = (value: JsonValue | undefined): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;
export const flagOf = (value: JsonValue | undefined): boolean | undefined => (typeof value === 'boolean' ? value : undefined);
export const textsOf = (value: JsonValue | undefined): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/** `1 row`, `3 rows`. */
export const counted = (n: number, word: string, words = `${word}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? word : words}`;

/** `a`, `a and b`, `a, b and c`. */
export function listed(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
