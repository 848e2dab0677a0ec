import { describe, expect, it } from 'vitest';
import { oneLine } from '../../src/notify/send.js';
import { escapeBlock, escapeInline } from '../../src/terminal/escape.js';
import { errorLines, table } from '../../src/terminal/render.js';

// #22 item 11: a reason or a server's error text with control characters must not drive the terminal (cursor moves,
// line rewrites, the window title, OSC 52 clipboard writes, bidi overrides): shown escaped in every human output.
const HOSTILE = 'ok\u001b]0;owned\u0007\r\u001b[2Kall good\u202e\u0000\u009b';
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/;

describe('control characters in human output', () => {
  it('escapeInline shows each as an escape, newlines too', () => {
    expect(escapeInline(`${HOSTILE}\nnext`)).toBe('ok\\x1b]0;owned\\x07\\r\\x1b[2Kall good\\u202e\\x00\\x9b\\nnext');
  });

  it("escapeBlock keeps line breaks and rotate's own colours, and escapes the rest", () => {
    const coloured = `\u001b[31m✖\u001b[39m ${HOSTILE}\nsecond line`;
    const out = escapeBlock(coloured);
    expect(out.startsWith('\u001b[31m✖\u001b[39m ok\\x1b]0;owned')).toBe(true);
    expect(out).toContain('\nsecond line');
    expect(out.replace(/\u001b\[[0-9;]*m/g, '')).not.toMatch(RAW);
  });

  it('history table cells, error lines and notification text carry none raw', () => {
    const rendered = table(['WHEN', 'NOTE'], [['now', HOSTILE]]);
    expect(rendered).not.toMatch(RAW);
    expect(rendered).toContain('\\x1b]0;owned');
    expect(errorLines({ code: 'KUBE_API_ERROR', message: HOSTILE, hint: HOSTILE }).join('\n')).not.toMatch(RAW);
    expect(oneLine(`rotate: jwt failed: ${HOSTILE}`)).not.toMatch(RAW);
  });

  it("keeps rotate's own line breaks in an error (CONFIG_INVALID lists one key a line), each line escaped", () => {
    const message = `/srv/app/rotate.config.json is not a valid configuration:\n  (top level): unknown key "promtion"\n  fleet: ${HOSTILE}`;
    const lines = errorLines({ code: 'CONFIG_INVALID', message, hint: 'fix the keys named above' });
    expect(lines).toEqual([
      '[CONFIG_INVALID] /srv/app/rotate.config.json is not a valid configuration:',
      '  (top level): unknown key "promtion"',
      `  fleet: ${escapeInline(HOSTILE)}`,
      'hint: fix the keys named above',
    ]);
    expect(lines.join('\n')).not.toContain('\\n');
  });
});
