// A scratch project whose one secret is a JWT consumed by the stand-in app: the cheapest real rotation, for tests
// about the store, the master key and signals rather than about a secret kind.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterEach, beforeEach } from 'vitest';
import { type StandInApp, standInApp } from './app.js';
import { type CliResult, runCli, scratchDir } from './cli.js';

export const OLD_JWT = 'old-signing-secret-0123456789-abcdefghijklmnop';
export const JWT_ENV_TEXT = `# app settings\nAPP_ENV=production\nJWT_SECRET=${OLD_JWT}\n`;

export interface JwtProject {
  dir: string;
  app: StandInApp;
  /** Rewrites rotate.config.json; `restartPrefix` runs before the app's restart command in the same shell. */
  writeConfig(extra?: { restartPrefix?: string; store?: Record<string, unknown>; verifyUrl?: string }): void;
  cli(args: string[], options?: { env?: Record<string, string | undefined> }): Promise<CliResult>;
  jwt(): string | undefined;
}

export async function jwtProject(options: { envText?: string; masterKey?: string } = {}): Promise<JwtProject> {
  const dir = scratchDir('rotate-store-');
  writeFileSync(join(dir, '.env'), options.envText ?? JWT_ENV_TEXT, { mode: 0o600 });
  const app = await standInApp(dir);
  const project: JwtProject = {
    dir,
    app,
    writeConfig(extra = {}) {
      const config = {
        ...(extra.store ? { store: extra.store } : {}),
        services: {
          backend: {
            restart: `${extra.restartPrefix ?? ''}${app.restartCommand}`,
            health: { url: `${app.url}/healthz`, timeoutSeconds: 20 },
          },
        },
        secrets: {
          jwt: { kind: 'jwt', services: ['backend'], verify: { url: extra.verifyUrl ?? `${app.url}/api/auth/me`, claims: { id: '1' } } },
        },
      };
      writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
    },
    cli: (args, opts = {}) =>
      runCli(args, {
        cwd: dir,
        env: { ...(options.masterKey ? { ROTATE_MASTER_KEY: options.masterKey } : { ROTATE_MASTER_KEY: undefined }), ...opts.env },
      }),
    jwt: () => dotenv.parse(readFileSync(join(dir, '.env'))).JWT_SECRET,
  };
  project.writeConfig();
  await app.start();
  return project;
}

/** A fresh project (its app running) for each test of the calling `describe`, its app stopped after each. */
export function eachJwtProject(options: { masterKey?: string } = {}): () => JwtProject {
  let project: JwtProject | undefined;
  beforeEach(async () => {
    project = await jwtProject(options);
  });
  afterEach(async () => {
    await project?.app.stop();
  });
  return () => project!;
}
