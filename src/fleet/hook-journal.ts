import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The agent's own journal of its `every` hooks, on its host (`.rotate-agent-journal.json` beside the config): for the
 * values a pass applies (run and fingerprint), each hook as started, done or failed. A pass killed half-way repeats
 * the write and the restart, but a hook journaled done is not run again, and one journaled started (the pass died
 * while it ran, for an unknown part) runs again only when marked idempotent. Names only: no value is in it.
 */
export const AGENT_JOURNAL_FILE = '.rotate-agent-journal.json';

export type HookState = 'started' | 'done' | 'failed';

interface Stored {
  runId: string;
  fingerprint: string;
  hooks: Record<string, { state: HookState; at: string }>;
}

export class AgentHookJournal {
  private constructor(
    private readonly path: string,
    private readonly data: Stored,
  ) {}

  /** The journal of these values: what an earlier pass of them left, or a fresh one (another run's is dropped). */
  static async open(configDir: string, runId: string, fingerprint: string): Promise<AgentHookJournal> {
    const path = join(configDir, AGENT_JOURNAL_FILE);
    let stored: Stored | undefined;
    try {
      stored = JSON.parse(await readFile(path, 'utf8')) as Stored;
    } catch {
      // none yet, or unreadable: nothing journaled for these values
    }
    const mine = stored && stored.runId === runId && stored.fingerprint === fingerprint && typeof stored.hooks === 'object';
    return new AgentHookJournal(path, mine ? stored! : { runId, fingerprint, hooks: {} });
  }

  state(key: string): { state: HookState; at: string } | undefined {
    return this.data.hooks[key];
  }

  /** Records a hook's state before (started) and after (done, failed) it runs: written whole, then renamed. */
  async mark(key: string, state: HookState, at: string): Promise<void> {
    this.data.hooks[key] = { state, at };
    const temporary = `${this.path}.tmp`;
    await writeFile(temporary, `${JSON.stringify(this.data, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, this.path);
  }

  /** The values are acknowledged: nothing of this pass is left to resume. */
  async clear(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
