// Whether a host name stays on this machine or a private network: JWT verification sends a token signed with the
// live secret, which must not cross the internet in clear text (plain http).
import { isIP, isIPv4 } from 'node:net';

/** Suffixes of names that resolve inside a private network by convention (RFC 6761/6762, Kubernetes, clouds). */
const PRIVATE_SUFFIXES = ['.localhost', '.local', '.internal', '.lan', '.home.arpa', '.svc', '.cluster.local'];

function privateV4(address: string): boolean {
  const [a, b] = address.split('.').map(Number) as [number, number];
  return (
    a === 127 ||
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    (a === 100 && b >= 64 && b <= 127)
  );
}

function privateV6(address: string): boolean {
  const lower = address.toLowerCase();
  if (lower === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return privateV4(mapped[1]!);
  return /^f[cd][0-9a-f]{2}:/.test(lower) || /^fe[89ab][0-9a-f]:/.test(lower);
}

/**
 * Loopback, private and link-local addresses; `localhost`; single-label names (a Compose or Kubernetes service name
 * such as `backend`); and names under a private suffix. A public-looking name (`api.example.com`) is not private.
 */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  // Only a name with a colon can be an IPv6 address: isIP's IPv6 pattern costs about 4 ms to compile, on every
  // `rotate status` whose config checks a verify URL.
  const family = host.includes(':') ? isIP(host) : isIPv4(host) ? 4 : 0;
  if (family === 4) return privateV4(host);
  if (family === 6) return privateV6(host);
  if (host === 'localhost' || !host.includes('.')) return true;
  return PRIVATE_SUFFIXES.some((suffix) => host.endsWith(suffix));
}

/** True when `url` is plain http to a host that is not private: a token would cross a network in clear text. */
export function isInsecureVerifyUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' && !isPrivateHost(parsed.hostname);
  } catch {
    return false; // the URL check reports it
  }
}
