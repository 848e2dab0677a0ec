// ioredis writes every command it sends (AUTH, ACL SETUSER, CONFIG SET requirepass: passwords included) to the
// `debug` channel `ioredis:*` when the DEBUG environment variable names it. Rotate turns that namespace off in the
// very `debug` instance ioredis uses, whatever DEBUG says, and leaves every other namespace as the user asked.
import { createRequire } from 'node:module';

interface Debug {
  enable(namespaces: string): void;
  disable(): string;
}

function silenceIoredisDebug(): void {
  let debug: Debug;
  try {
    const fromIoredis = createRequire(createRequire(import.meta.url).resolve('ioredis'));
    debug = fromIoredis('debug') as Debug;
  } catch {
    return; // an ioredis without `debug` has no such channel
  }
  // `enable` also writes process.env.DEBUG (children inherit it): put the user's value back.
  const asked = process.env.DEBUG;
  const current = debug.disable();
  debug.enable(`${current}${current ? ',' : ''}-ioredis:*`);
  if (asked === undefined) delete process.env.DEBUG;
  else process.env.DEBUG = asked;
}

silenceIoredisDebug();
