// Kubeconfig files for the fake cluster: one cluster (http, so insecure-skip-tls-verify as @kubernetes/client-node
// 1.4 needs for a plain-http server), one user per token, one context per user.
import { writeFileSync } from 'node:fs';

export interface KubeconfigContext {
  name: string;
  token: string;
  namespace?: string;
}

/** Writes a kubeconfig (mode 0600, it holds tokens) whose current context is the first one. */
export function writeKubeconfig(path: string, server: string, contexts: KubeconfigContext[]): string {
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: fake',
    '  cluster:',
    `    server: ${server}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    ...contexts.flatMap((c) => [`- name: ${c.name}-user`, '  user:', `    token: ${c.token}`]),
    'contexts:',
    ...contexts.flatMap((c) => [
      `- name: ${c.name}`,
      '  context:',
      '    cluster: fake',
      `    user: ${c.name}-user`,
      ...(c.namespace ? [`    namespace: ${c.namespace}`] : []),
    ]),
    `current-context: ${contexts[0]?.name ?? ''}`,
    '',
  ];
  writeFileSync(path, lines.join('\n'), { mode: 0o600 });
  return path;
}
