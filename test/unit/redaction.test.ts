import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kubeError } from '../../src/kubernetes/client.js';
import { markSecret, redact, SECRET_NAME, SecretValue } from '../../src/secret-value.js';
import { safeCommand } from '../../src/trace.js';

// #22 items 9 and 11: a value must not come back through an encoding (a Kubernetes Status message quoting the
// Secret's base64 data), an API error's free text, or a variable whose name says credential but was not matched.

describe('redact() knows every form of a registered value', () => {
  it('replaces the value as is, URL-encoded, base64 (padded and not), base64url and hex', () => {
    const raw = `p+/${randomBytes(12).toString('base64')}?&`;
    new SecretValue(raw);
    const bytes = Buffer.from(raw);
    const forms = [
      raw,
      encodeURIComponent(raw),
      bytes.toString('base64'),
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('base64url'),
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
    ];
    for (const form of forms) {
      const out = redact(`admission webhook "policy.example.com" denied the request: data.JWT_SECRET=${form} is weak`);
      expect(out, form).not.toContain(form);
      expect(out).toContain('[redacted]');
    }
  });

  it('a value marked by markSecret (a URL password) is covered in base64 too', () => {
    const password = `pw-${randomBytes(9).toString('hex')}`;
    markSecret(password);
    expect(redact(`token ${Buffer.from(password).toString('base64')}`)).toBe('token [redacted]');
  });
});

describe('names that say credential', () => {
  it('include *_PASS, *_DSN, *_AUTH and DSN, besides the secret, password, token, key and URL names', () => {
    for (const name of ['SMTP_PASS', 'SENTRY_DSN', 'DSN', 'BASIC_AUTH', 'JWT_SECRET', 'DB_PASSWORD', 'API_KEY', 'DATABASE_URL']) {
      expect(SECRET_NAME.test(name), name).toBe(true);
    }
    for (const name of ['APP_ENV', 'PORT', 'PASSAGE_COUNT', 'AUTHOR']) expect(SECRET_NAME.test(name), name).toBe(false);
  });

  it('a command line blanks SMTP_PASS=, SENTRY_DSN= and X_AUTH= assignments', () => {
    const line = safeCommand('SMTP_PASS=hunter22 SENTRY_DSN=https://k@s.io/1 X_AUTH=abc123 ./restart.sh');
    expect(line).not.toMatch(/hunter22|abc123|k@s\.io/);
  });
});

describe('Kubernetes errors', () => {
  const ref = { verb: 'patch', resource: 'secrets', group: '', namespace: 'app', name: 'app-secrets' };
  const refused = (code: number, message: string, reason: string) =>
    Object.assign(new Error('HTTP-Code: ...'), { code, body: JSON.stringify({ kind: 'Status', code, reason, message }) });

  it('a failed write keeps only the Status reason: a webhook message quoting the data never reaches the output', () => {
    const data = Buffer.from('an-unregistered-secret-value').toString('base64');
    const error = kubeError(refused(422, `admission webhook denied: data.X=${data}`, 'Invalid'), ref, 'https://k8s.example.com');
    expect(error.message).not.toContain(data);
    expect(error.message).toContain('reason: Invalid');
  });

  it('a read keeps the API server message (it names what is missing)', () => {
    const error = kubeError(refused(404, 'secrets "app-secrets" not found', 'NotFound'), { ...ref, verb: 'get' }, 'https://k8s');
    expect(error.message).toContain('secrets "app-secrets" not found');
  });
});

describe('the kubeconfig server URL', () => {
  it('is never shown with its userinfo or query in KUBE_* errors', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { kubeClients } = await import('../../src/kubernetes/client.js');
    const dir = mkdtempSync(join(tmpdir(), 'rotate-kubeconfig-'));
    const path = join(dir, 'kubeconfig');
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{ name: c, cluster: { server: "https://admin:kube-pass-123@127.0.0.1:9/?token=tok-456" } }]',
        'users: [{ name: u, user: { token: t } }]',
        'contexts: [{ name: x, context: { cluster: c, user: u } }]',
        'current-context: x',
      ].join('\n'),
    );
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = path;
    try {
      const clients = await kubeClients();
      expect(clients.server).not.toMatch(/admin|kube-pass-123|tok-456/);
      const error = kubeError(
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        { verb: 'get', resource: 'secrets', group: '', namespace: 'a', name: 'b' },
        clients.server,
      );
      expect(error.message).not.toMatch(/kube-pass-123|tok-456/);
      expect(error.message).toContain('127.0.0.1:9');
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });
});
