// GET /api/auth/me like the platform: HS256 with JWT_SECRET (and JWT_SECRET_PREVIOUS during a grace period);
// 200 with the user for a good token, 401 problem+json for a bad signature or an expired token.
import { jwtVerify } from 'jose';
import { problem } from './problem.mjs';

export function setup(env) {
  const keys = [env.JWT_SECRET, env.JWT_SECRET_PREVIOUS].filter(Boolean).map((s) => new TextEncoder().encode(s));
  return {
    routes: {
      'GET /api/auth/me': async ({ req }) => {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        if (!token) return problem(401, 'Not authenticated');
        for (const key of keys) {
          try {
            const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
            const id = payload.id ?? payload.sub ?? payload.user_id;
            return { status: 200, body: { id, email: payload.email ?? null } };
          } catch {
            // try the next key
          }
        }
        return problem(401, 'Could not validate credentials');
      },
    },
  };
}
