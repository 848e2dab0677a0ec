/**
 * A value built on its first use, then kept: zod schemas built at module load cost start-up time in commands that
 * never use them (`rotate --help` parses no options; README, Start-up).
 */
export function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}
