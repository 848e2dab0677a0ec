import type { SecretStatus } from '../engine/result.js';
import type { HistoryEntry, HistoryHead } from '../store/types.js';
import type { NotifyEvent } from './schema.js';
import type { Notice } from './send.js';

/** Which notification a finished run is: the run's status decides, so `notify.on` filters by what it means. */
export function eventOf(status: SecretStatus | 'marked'): NotifyEvent | undefined {
  switch (status) {
    case 'rotated':
    case 'grace':
    case 'retired':
    case 'restored':
    case 'marked':
    case 'written':
      return 'success';
    case 'failed':
    case 'rolled-back':
    case 'undone':
      return 'failure';
    case 'rollback-failed':
    case 'retire-failed':
      return 'needs-person';
    default:
      return undefined;
  }
}

const WHAT: Record<HistoryEntry['action'], string> = {
  rotate: 'rotation',
  rollback: 'rollback',
  retire: 'retirement of the old value',
  resume: 'resumed run',
  mark: 'mark',
  verify: 'verification',
};

/** The one-line text people read in the chat, saying what happened and, when something failed, what to run next. */
function textOf(event: NotifyEvent, entry: HistoryEntry, host: string): string {
  const what = `${entry.secret} ${WHAT[entry.action]}`;
  const error = entry.error ? `: [${entry.error.code}] ${entry.error.message}` : '';
  switch (event) {
    case 'failure': {
      if (entry.error?.code === 'PREFLIGHT_FAILED') {
        return (
          `rotate: ${what} failed its checks on ${host}; nothing was changed${error}. ` +
          `Next: run \`rotate verify ${entry.secret}\`, fix what it names, then \`rotate ${entry.secret}\``
        );
      }
      const undone = entry.result === 'rolled-back' ? ' and was rolled back; the old value is in place' : '; nothing was changed';
      return `rotate: ${what} failed on ${host}${undone}${error}. Next: run \`rotate status\`, fix the cause, then \`rotate ${entry.secret}\``;
    }
    case 'needs-person':
      return `rotate: ${what} on ${host} needs a person${error}. Next: run \`rotate status\` on ${host}, fix the cause, then \`rotate resume\``;
    default:
      if (entry.result === 'written') {
        return `rotate: ${entry.secret} written on ${host} but not applied to any running process (--no-restart); rotate left the old value alone`;
      }
      if (entry.action === 'mark') return `rotate: ${entry.secret} recorded as rotated outside rotate by ${entry.actor}`;
      return `rotate: ${what} done on ${host} (${entry.result})`;
  }
}

/**
 * The notification for one history record: the text plus the record's fields (never a secret value). With the
 * history's head, the text ends with its sequence number and link and the fields carry them whole: the chat keeps a
 * copy of where the history ended, which `rotate history --verify` prints, so records removed later show.
 */
export function historyNotice(entry: HistoryEntry, status: SecretStatus | 'marked', host: string, head?: HistoryHead): Notice | undefined {
  const event = eventOf(status);
  if (!event) return undefined;
  const { chain: _, ...fields } = entry;
  const mark = head ? ` [history #${head.seq}, link ${head.link.slice(0, 12)}]` : '';
  return {
    ...fields,
    event,
    text: `${textOf(event, entry, host)}${mark}`,
    host,
    status,
    ...(head ? { history: { seq: head.seq, link: head.link } } : {}),
  };
}
