import * as z from 'zod/mini';

/** What a notification is about; `notify.on` picks among these. */
const NOTIFY_EVENTS = ['failure', 'needs-person', 'due-soon', 'success'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

/**
 * A webhook URL with `user:password@` would put that credential wherever a URL is shown; Slack, Mattermost and Teams
 * hooks carry their token in the path, which rotate never prints (a failed delivery names only the HTTP status).
 */
const webhookUrl = httpUrl.check(
  z.refine((value) => {
    const url = new URL(value);
    return url.username === '' && url.password === '';
  }, 'a webhook URL must not hold user:password@ (it would be shown whole in errors): use the URL with the token in its path that the chat service gives, without userinfo'),
);

/** `notify` in rotate.config.json (CONTRACT.md, "Operations signals"). */
export const notifySchema = z.strictObject({
  webhookUrl: z._default(z.nullable(webhookUrl), null),
  on: z._default(z.array(z.enum(NOTIFY_EVENTS, { error: `expected one of ${NOTIFY_EVENTS.join(', ')}` })), [
    'failure',
    'needs-person',
    'due-soon',
  ]),
  /** Days before a secret's due date when `--due` starts posting a daily reminder. */
  remindDaysBefore: z._default(z.int().check(z.gte(0), z.lte(365)), 14),
});
export type NotifyConfig = z.output<typeof notifySchema>;
