// Why a fetch failed, as a person can act on it. Node's fetch (undici) throws `TypeError: fetch failed` and keeps the
// reason in `cause` (an errno like ECONNREFUSED or ENOTFOUND, a TLS error, a timeout); the bare message says nothing.

const ERRNO: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (nothing listens there)',
  ENOTFOUND: 'DNS: the host name does not resolve',
  EAI_AGAIN: 'DNS: the lookup failed for now (no resolver answer)',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection closed unexpectedly',
};

const TLS = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i;

/** `connection refused (ECONNREFUSED 127.0.0.1:8000)`, `TLS: certificate has expired (CERT_HAS_EXPIRED)`, a timeout. */
export function fetchErrorText(error: unknown): string {
  const outer = error as Error & { cause?: unknown };
  if (outer?.name === 'TimeoutError' || outer?.name === 'AbortError') return 'no answer within the timeout';
  // AggregateError (IPv4 and IPv6 both refused) keeps its errors; the first one says enough.
  let cause = outer?.cause as (Error & { code?: string; errors?: Error[]; address?: string; port?: number }) | undefined;
  if (cause && !cause.code && Array.isArray(cause.errors) && cause.errors[0]) cause = cause.errors[0] as typeof cause;
  if (!cause) return outer?.message ?? String(error);
  const code = cause.code ?? '';
  const where = cause.address ? ` ${cause.address}${cause.port ? `:${cause.port}` : ''}` : '';
  if (ERRNO[code]) return `${ERRNO[code]} (${code}${where})`;
  if (TLS.test(code) || TLS.test(cause.message)) return `TLS: ${cause.message}${code ? ` (${code})` : ''}`;
  return code ? `${cause.message} (${code})` : cause.message;
}
