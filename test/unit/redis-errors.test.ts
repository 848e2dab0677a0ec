import { describe, expect, it } from 'vitest';
import { markSecret } from '../../src/secret-value.js';
import { replyCode, replyText } from '../../src/secrets/redis/connection.js';

describe('Redis error text', () => {
  it('keeps the first line and blanks the arguments Redis echoes back', () => {
    const error = Object.assign(new Error("ERR Error in ACL SETUSER modifier '<hunter2-pass': no such password\nmore"), {
      command: { name: 'acl', args: ['SETUSER', 'app', '<hunter2-pass'] },
    });
    expect(replyText(error, ['<hunter2-pass'])).toBe("ERR Error in ACL SETUSER modifier '[redacted]': no such password");
  });

  it('redacts every password this process has seen, even when not named', () => {
    markSecret('seen-elsewhere-pw');
    expect(replyText(new Error('WRONGPASS seen-elsewhere-pw'))).toBe('WRONGPASS [redacted]');
  });

  it('reads the code word of a reply or a socket error', () => {
    expect(replyCode(new Error('WRONGPASS invalid username-password pair'))).toBe('WRONGPASS');
    expect(replyCode(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(replyCode(new Error('something else'))).toBe('ERROR');
  });
});
