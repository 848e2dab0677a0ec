// Redis like the platform: with REDIS_URL set, the app connects at start and refuses to start (setup throws) when
// Redis rejects the password. GET /api/cache/ping PINGs on a FRESH connection, so it proves the current password,
// not one that a long-lived connection authenticated with before a change.

/** Connects with `url`; resolves with the client, or rejects with the server's reply (never the URL). */
async function connect(Redis, url) {
  const client = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    disableClientInfo: true,
    enableReadyCheck: false,
    connectTimeout: 3000,
  });
  let lastError;
  client.on('error', (error) => {
    lastError = error;
  });
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (error) {
    client.disconnect();
    throw new Error(`Redis refused REDIS_URL: ${String((lastError ?? error)?.message ?? error).split('\n')[0]}`);
  }
}

export async function setup(env) {
  const url = env.REDIS_URL;
  if (!url) return { routes: {} };
  // Loaded only when used: every restart of the app pays for what it imports.
  const { Redis } = await import('ioredis');
  // The app's own long-lived connection: like the platform's pool, it reconnects with the password it started with.
  await (await connect(Redis, url)).quit();
  const client = new Redis(url, { disableClientInfo: true, enableReadyCheck: false });
  client.on('error', () => {});
  return {
    routes: {
      'GET /api/cache/ping': async () => {
        try {
          const fresh = await connect(Redis, url);
          await fresh.quit();
          return { status: 200, body: { pong: true } };
        } catch (error) {
          return { status: 503, body: { detail: String(error.message) } };
        }
      },
    },
    close: async () => {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
