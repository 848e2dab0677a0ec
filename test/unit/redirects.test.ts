import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { notifySchema } from '../../src/notify/schema.js';
import { sendNotice } from '../../src/notify/send.js';
import { SecretValue } from '../../src/secret-value.js';
import { appAnswers } from '../../src/secrets/app-check.js';
import { jwtRotator } from '../../src/secrets/jwt/index.js';
import type { JwtSecretConfig } from '../../src/secrets/jwt/kind.js';
import type { StripeSecretConfig } from '../../src/secrets/stripe/kind.js';
import { deliveryCheck } from '../../src/secrets/stripe/signature.js';
import { freePort } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';

// A check URL that answers 302 to a login page (which answers 200) is not the app accepting the secret; a webhook's
// 307 to another origin must not receive the notification again. Redirects are never followed by fetch here.

interface Site {
  url: string;
  /** Every request, as `METHOD path`. */
  requests: string[];
  close(): Promise<void>;
}

const sites: Site[] = [];
afterEach(async () => {
  await Promise.all(sites.splice(0).map((site) => site.close()));
});

/** A server whose `/login` answers 200 and whose every other path answers `status` with `location`. */
async function site(status: number, location: (self: string) => string): Promise<Site> {
  const requests: string[] = [];
  let self = '';
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      if (req.url?.startsWith('/login') || req.url?.startsWith('/final')) {
        res.statusCode = 200;
        res.end('welcome');
        return;
      }
      res.statusCode = status;
      res.setHeader('location', location(self));
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  self = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const made = { url: self, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
  sites.push(made);
  return made;
}

const loginRedirect = () => site(302, (self) => `http://sso:hunter2@${self.slice('http://'.length)}/login?next=%2Fme&token=abc#frag`);

describe('checks never follow redirects', () => {
  it('JWT: a 302 to a login page fails "the app accepts" and says where it pointed, without userinfo or query', async () => {
    const app = await loginRedirect();
    const ctx = testContext<JwtSecretConfig>({
      config: { kind: 'jwt', verify: { url: `${app.url}/api/me` } },
      env: { JWT_SECRET: 'x'.repeat(40) },
    });
    const { checks } = await jwtRotator.preflight(ctx);
    const accepts = checks.find((c) => c.name.includes('accepts'))!;
    expect(accepts.ok).toBe(false);
    expect(accepts.detail).toContain(`answered 302, a redirect to ${app.url}/login`);
    expect(accepts.detail).not.toMatch(/hunter2|token=abc|next=|frag/);
    expect(app.requests).toEqual(['GET /api/me']);
  });

  it('the app check (exchange-key, database app checks): a redirect is a failed check', async () => {
    const app = await loginRedirect();
    const ctx = testContext({ config: { kind: 'jwt' } });
    const result = await appAnswers(ctx, 'app-decrypts', 'the app answers', `${app.url}/check`, 'fix it');
    expect(result.ok).toBe(false);
    expect(result.detail).toBe(`${app.url}/check answered 302, a redirect to ${app.url}/login (not followed)`);
    expect(app.requests).toEqual(['GET /check']);
  });

  it('Stripe: a redirect from the webhook route is not "the app accepts the new signing secret"', async () => {
    const app = await site(307, (self) => `${self}/final`);
    const ctx = testContext<StripeSecretConfig>({
      config: { kind: 'stripe', webhook: { verifyUrl: `${app.url}/webhook` } },
    });
    const result = await deliveryCheck(ctx, 'app accepts', new SecretValue('whsec_0123456789abcdef0123456789abcdef'), 'accept', undefined);
    expect(result.ok).toBe(false);
    expect(result.detail).toContain(`answered 307, a redirect to ${app.url}/final`);
    expect(app.requests).toEqual(['POST /webhook']);
  });
});

describe('notifications and redirects', () => {
  const deps = () => {
    const warnings: string[] = [];
    return {
      warnings,
      fetch: globalThis.fetch,
      log: { info: () => {}, debug: () => {}, warn: (m: string) => warnings.push(m) },
      sleep: async () => {},
    };
  };

  it('a 307 to another origin is not posted to; the warning names where it pointed, not the webhook URL', async () => {
    const elsewhere = await site(200, () => '');
    const hook = await site(307, () => `${elsewhere.url}/collect?k=v`);
    const d = deps();
    const config = notifySchema.parse({ webhookUrl: `${hook.url}/hooks/T0/B0/tokenpart`, on: ['failure'] });
    expect(await sendNotice(config, d, { event: 'failure', text: 'x' })).toBe(false);
    expect(elsewhere.requests).toEqual([]);
    expect(hook.requests).toEqual(['POST /hooks/T0/B0/tokenpart']);
    expect(d.warnings.join('\n')).toContain(`a redirect to ${elsewhere.url}/collect, not followed`);
    expect(d.warnings.join('\n')).not.toContain('tokenpart');
  });

  it('a 308 within the same origin is followed with the same POST', async () => {
    const hook = await site(308, (self) => `${self}/final`);
    const d = deps();
    const config = notifySchema.parse({ webhookUrl: `${hook.url}/hook`, on: ['failure'] });
    expect(await sendNotice(config, d, { event: 'failure', text: 'x' })).toBe(true);
    expect(hook.requests).toEqual(['POST /hook', 'POST /final']);
  });

  it('an unreachable webhook is logged by its error kind, never by fetch message quoting the URL', async () => {
    const d = deps();
    const config = notifySchema.parse({ webhookUrl: `http://127.0.0.1:${await freePort()}/hooks/secretpath`, on: ['failure'] });
    expect(await sendNotice(config, d, { event: 'failure', text: 'x' })).toBe(false);
    expect(d.warnings.join('\n')).toContain('cannot connect: ECONNREFUSED');
    expect(d.warnings.join('\n')).not.toContain('secretpath');
  });
});

describe('notify.webhookUrl with userinfo', () => {
  it('is refused at config check, naming notify.webhookUrl, and the error does not repeat the password', async () => {
    const { parseConfig } = await import('../../src/config/load.js');
    let error: unknown;
    try {
      parseConfig({ secrets: {}, notify: { webhookUrl: 'https://bot:s3cretpw@hooks.example.com/x' } }, 'rotate.config.json');
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 2 });
    const text = `${(error as Error).message} ${(error as { hint?: string }).hint ?? ''}`;
    expect(text).toContain('notify.webhookUrl');
    expect(text).toContain('user:password@');
    expect(text).not.toContain('s3cretpw');
  });
});
