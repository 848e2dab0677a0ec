/**
 * Control characters from outside (`--reason`, an API server's or a webhook's error text, a history record) never
 * reach a terminal raw: an ESC sequence can move the cursor, rewrite earlier lines, set the window title or the
 * clipboard (OSC 52), a CR can overwrite what a line said, and bidirectional overrides can reorder what is read
 * ("Trojan Source"). They are stored as given (history.jsonl and --json escape them as JSON does) and shown escaped
 * in human output: `\x1b`, `\r`, `\u202e`.
 */
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROLS_AND_LINES = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const escapeOne = (char: string): string => {
  const named = NAMED[char];
  if (named) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** For one line or one table cell: every control character escaped, newlines and tabs too. */
export function escapeInline(text: string): string {
  return text.replace(CONTROLS_AND_LINES, escapeOne);
}

/** The colour sequences rotate's own output uses (chalk's SGR: `ESC [ n ; n m`); nothing else of ESC is kept. */
const SGR = /\u001b\[[0-9;]*m/g;

/** For whole blocks written to a terminal: line breaks and tabs stay, rotate's colours stay, every other control is escaped. */
export function escapeBlock(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(SGR)) {
    out += text.slice(last, match.index).replace(CONTROLS, escapeOne) + match[0];
    last = match.index + match[0].length;
  }
  return out + text.slice(last).replace(CONTROLS, escapeOne);
}
