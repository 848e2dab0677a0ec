import { RotateError } from '../errors.js';
import { journalSecretIds } from '../store/types.js';
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

/** Refuses to start while an interrupted run waits for `rotate resume`. */
export async function assertNoPendingRun(session: Session): Promise<void> {
  const journals = await session.store.readJournals();
  if (journals.length === 0) return;
  const names = journals.map(
    (j) => `${journalSecretIds(j).join(', ')} (${j.mode} ${j.runId} from ${j.host}, ${j.needsPerson ?? 'interrupted'})`,
  );
  throw new RotateError('RUN_PENDING', `an earlier run did not finish: ${names.join('; ')}`, {
    hint: 'run `rotate status` to see it, then `rotate resume` to finish or undo it',
  });
}
