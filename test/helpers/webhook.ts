import { createServer, type Server } from 'node:http';

export interface Webhook {
  url: string;
  /** Each POST's body as received, oldest first. */
  bodies: string[];
  /** The bodies parsed as JSON. */
  events(): Record<string, unknown>[];
  close(): Promise<void>;
}

/** A local notification hook that answers each POST with the next status of `statuses` (then 200) and keeps the bodies. */
export async function startWebhook(statuses: number[] = []): Promise<Webhook> {
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      bodies.push(body);
      res.statusCode = statuses.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    bodies,
    events: () => bodies.map((body) => JSON.parse(body)),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
