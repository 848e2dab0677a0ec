// The Kubernetes target: a run's values are the `data` of one Secret (keys are env names). The write is one merge
// patch carrying the resourceVersion read at the start, so a concurrent change gets 409 Conflict and nothing is
// overwritten; keys the patch does not name stay byte for byte on the server.

import { resolve } from 'node:path';
import type { TargetConfig } from '../config/schema.js';
import type { Check, Logger } from '../core-types.js';
import { type KubeClients, kubeClients, kubeError, mayI, type ObjectRef, roleRule } from '../kubernetes/client.js';
import { LAST_APPLIED, ownerEffect, ownerFix, type SecretMetadata, secretOwners } from '../kubernetes/ownership.js';
import type { OpenTarget, Target, TargetPreflight, TargetSnapshot } from './types.js';

export interface KubernetesTargetConfig {
  namespace: string;
  secret: string;
  context?: string;
  /** A `target.source` is configured: the file the Secret is deployed from is written with it. */
  hasSource?: boolean;
  /** target.source.git: a GitOps controller applies the source, so its ownership of the Secret is expected. */
  gitDelivered?: boolean;
}

type SecretData = Record<string, string>;

const decode = (data: SecretData): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

export async function openKubernetesTarget(target: KubernetesTargetConfig, deps: { log: Logger }): Promise<SecretTarget> {
  const clients = await kubeClients(target.context);
  return new SecretTarget(clients, target, deps.log);
}

/**
 * Opens the Secret of `target: { type: "kubernetes", namespace, secret, context, source? }`; with `source`, the file
 * the Secret is deployed from is kept in step with it (kubernetes-source.ts), written as one with the Secret.
 */
export const openTarget: OpenTarget<Extract<TargetConfig, { type: 'kubernetes' }>> = async (config, deps) => {
  const live = await openKubernetesTarget(
    {
      namespace: config.namespace,
      secret: config.secret,
      ...(config.context ? { context: config.context } : {}),
      hasSource: Boolean(config.source),
      ...(config.source?.git ? { gitDelivered: true } : {}),
    },
    deps,
  );
  if (!config.source) return live;
  const [{ withSource }, { openSecretSource }] = await Promise.all([import('./kubernetes-source.js'), import('./secret-source.js')]);
  const file = resolve(deps.configDir ?? '.', config.source.file);
  const source = openSecretSource(file, { namespace: config.namespace, name: config.secret }, deps);
  if (!config.source.git) return withSource(live, source);
  // Git delivery: the file is committed and pushed, a GitOps controller applies it (git-delivery.ts).
  const { openGitDelivery } = await import('./git-delivery.js');
  return withSource(live, source, { delivery: openGitDelivery(file, config.source.git), convergeSeconds: config.source.convergeSeconds });
};

/** What the Secret's backup holds: its data and, when kubectl apply manages it, its last-applied-configuration. */
interface SecretBackup {
  secret: string;
  resourceVersion: string;
  data: SecretData;
  lastApplied?: string | null;
}

export class SecretTarget implements Target {
  readonly description: string;
  /** The resourceVersion of the last read or write: a write without `expected` still carries it. */
  #version: string | undefined;

  constructor(
    readonly clients: KubeClients,
    readonly target: KubernetesTargetConfig,
    readonly log: Logger,
  ) {
    this.description = `Secret ${target.namespace}/${target.secret}`;
  }

  #ref(verb: string): ObjectRef {
    return { verb, resource: 'secrets', group: '', namespace: this.target.namespace, name: this.target.secret };
  }

  async #get(): Promise<{ data: SecretData; version: string; metadata: SecretMetadata }> {
    try {
      const secret = await this.clients.core.readNamespacedSecret({ name: this.target.secret, namespace: this.target.namespace });
      return { data: secret.data ?? {}, version: secret.metadata?.resourceVersion ?? '', metadata: secret.metadata ?? {} };
    } catch (error) {
      throw kubeError(error, this.#ref('get'), this.clients.server);
    }
  }

  async read(): Promise<TargetSnapshot> {
    const { data, version } = await this.#get();
    this.#version = version;
    return { values: decode(data), version };
  }

  async preflight(keys: readonly string[]): Promise<TargetPreflight> {
    const checks: Check[] = [];
    const what = this.description;
    try {
      const { data, metadata } = await this.#get();
      checks.push({ id: 'kube-secret-exists', name: `${what} exists`, ok: true, detail: `context ${this.clients.context}` });
      checks.push(this.#ownerCheck(metadata));
      // Keys a run may add (JWT_SECRET_PREVIOUS, an optional copy) need not exist yet; each rotator checks the keys it
      // cannot do without. Listing the absent ones still tells a reader of the plan what will appear.
      const absent = keys.filter((key) => !(key in data));
      if (absent.length > 0)
        checks.push({ id: 'kube-secret-keys-added', name: `${what}: keys the run adds when needed`, ok: true, detail: absent.join(', ') });
    } catch (error) {
      const failure = kubeError(error, this.#ref('get'), this.clients.server);
      checks.push({
        id: 'kube-secret-exists',
        name: `${what} exists`,
        ok: false,
        detail: failure.message,
        hint: failure.hint,
        code: failure.code,
      });
    }
    for (const verb of ['get', 'patch']) checks.push(await this.#mayCheck(verb));
    return { checks, warnings: [] };
  }

  /**
   * A Secret another tool writes back (a controller, or kubectl apply of a manifest) is refused unless its source is
   * configured: a patch of the live Secret alone would be undone at the next reconcile or deploy.
   */
  #ownerCheck(metadata: SecretMetadata): Check {
    const name = `who owns ${this.description}`;
    const id = 'kube-secret-owner';
    const owners = secretOwners(metadata);
    if (owners.length === 0) return { id, name, ok: true, detail: 'no controller, no kubectl apply: rotate writes it alone' };
    const blocking = this.target.gitDelivered
      ? undefined
      : (owners.find((owner) => owner.external) ?? (this.target.hasSource ? undefined : owners[0]));
    const said = owners.map((owner) => `${owner.kind} (${owner.evidence})`).join(', ');
    if (!blocking)
      return {
        id,
        name,
        ok: true,
        detail: `${said}; ${this.target.gitDelivered ? 'applied from target.source, delivered with git' : 'written together with target.source'}`,
      };
    return {
      id,
      name,
      ok: false,
      detail: `managed by ${said}: ${ownerEffect(blocking)}, putting the old value back`,
      hint: ownerFix(blocking),
      code: 'KUBE_SECRET_OWNED',
    };
  }

  async #mayCheck(verb: string): Promise<Check> {
    const ref = this.#ref(verb);
    const name = `may ${verb} ${this.description}`;
    const id = verb === 'get' ? 'kube-secret-may-get' : 'kube-secret-may-patch';
    try {
      if (await mayI(this.clients, ref, () => this.#probe(verb))) return { id, name, ok: true };
      return {
        id,
        name,
        ok: false,
        detail: `the account of context ${this.clients.context} may not ${verb} secrets ${ref.namespace}/${ref.name}`,
        hint: `add this rule to the Role bound to rotate's account in namespace ${ref.namespace}: ${roleRule(ref, ['get', 'patch'])}`,
        code: 'KUBE_FORBIDDEN',
      };
    } catch (error) {
      const failure = kubeError(
        error,
        { ...ref, verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' },
        this.clients.server,
      );
      return { id, name, ok: false, detail: failure.message, hint: failure.hint, code: failure.code };
    }
  }

  /** The request itself, changing nothing: a read, or an empty merge patch as a server-side dry run. */
  #probe(verb: string): Promise<unknown> {
    const params = { name: this.target.secret, namespace: this.target.namespace };
    if (verb === 'get') return this.clients.core.readNamespacedSecret(params);
    const { kube } = this.clients;
    return this.clients.core.patchNamespacedSecret(
      { ...params, body: {}, dryRun: 'All' },
      kube.setHeaderOptions('Content-Type', kube.PatchStrategy.MergePatch),
    );
  }

  async backup(): Promise<Buffer> {
    const { data, version, metadata } = await this.#get();
    const backup: SecretBackup = {
      secret: `${this.target.namespace}/${this.target.secret}`,
      resourceVersion: version,
      data,
      lastApplied: metadata.annotations?.[LAST_APPLIED] ?? null,
    };
    return Buffer.from(JSON.stringify(backup));
  }

  /** The live Secret's last-applied-configuration (kubectl apply's), if it has one. */
  async lastApplied(): Promise<string | undefined> {
    return (await this.#get()).metadata.annotations?.[LAST_APPLIED];
  }

  write(changes: Readonly<Record<string, string | null>>, expected?: TargetSnapshot): Promise<TargetSnapshot> {
    return this.writeWith(changes, expected);
  }

  /** `write`, and with `lastApplied` the annotation too, in the same one patch. */
  async writeWith(
    changes: Readonly<Record<string, string | null>>,
    expected?: TargetSnapshot,
    lastApplied?: string,
  ): Promise<TargetSnapshot> {
    const version = expected?.version ?? this.#version;
    const data = Object.fromEntries(
      Object.entries(changes).map(([k, v]) => [k, v === null ? null : Buffer.from(v, 'utf8').toString('base64')]),
    );
    return this.#patch(data, version, lastApplied);
  }

  async #patch(data: Record<string, string | null>, version: string | undefined, lastApplied?: string | null): Promise<TargetSnapshot> {
    const { kube } = this.clients;
    try {
      const secret = await this.clients.core.patchNamespacedSecret(
        {
          name: this.target.secret,
          namespace: this.target.namespace,
          body: {
            metadata: {
              ...(version ? { resourceVersion: version } : {}),
              ...(lastApplied === undefined ? {} : { annotations: { [LAST_APPLIED]: lastApplied } }),
            },
            data,
          },
          fieldManager: 'rotate',
        },
        kube.setHeaderOptions('Content-Type', kube.PatchStrategy.MergePatch),
      );
      this.#version = secret.metadata?.resourceVersion ?? '';
      return { values: decode(secret.data ?? {}), version: this.#version };
    } catch (error) {
      throw kubeError(error, this.#ref('patch'), this.clients.server);
    }
  }

  /** With `lastApplied` (a Secret written with its source), the backup's last-applied-configuration goes back too. */
  async restore(backup: Buffer, keys: readonly string[], lastApplied = false): Promise<void> {
    const parsed = JSON.parse(backup.toString('utf8')) as SecretBackup;
    const saved = parsed.data;
    // Only `keys` go back (other keys may have been changed by someone since); against the version just read, so a
    // concurrent writer is never overwritten blindly: on 409 read again and retry.
    for (let attempt = 1; ; attempt++) {
      const { data, version, metadata } = await this.#get();
      const changes: Record<string, string | null> = {};
      for (const key of keys) if (data[key] !== saved[key]) changes[key] = saved[key] ?? null;
      const annotation =
        lastApplied && parsed.lastApplied !== undefined && (metadata.annotations?.[LAST_APPLIED] ?? null) !== parsed.lastApplied;
      if (Object.keys(changes).length === 0 && !annotation) return;
      try {
        await this.#patch(changes, version, annotation ? parsed.lastApplied : undefined);
        this.log.debug(`restored ${keys.join(', ')} in ${this.description}`);
        return;
      } catch (error) {
        if (attempt >= 3 || (error as { code?: string }).code !== 'KUBE_CONFLICT') throw error;
      }
    }
  }
}
