import type { Session } from './session.js';

/** Runs `work` holding the store's lock (exit 4 when another run holds it), released afterwards. */
export async function withLock<T>(session: Session, label: string, work: () => Promise<T>): Promise<T> {
  const changing = session.deps.whileChanging ?? ((w: () => Promise<T>) => w());
  return changing(async () => {
    const lock = await session.store.acquireLock(label);
    try {
      return await work();
    } finally {
      await lock.release();
    }
  });
}
