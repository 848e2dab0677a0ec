// Who owns a Secret: a controller that writes it back from somewhere else (ExternalSecret, SealedSecret, Argo CD,
// Flux, Helm), or `kubectl apply` from a file. Patching such a Secret alone lasts until the next reconcile or deploy,
// which puts the old value back: for a database password, every pod that restarts after that is locked out.
// Read from the Secret's metadata only; never from `last-applied-configuration`'s content (it holds the values).

export type OwnerKind = 'ExternalSecret' | 'SealedSecret' | 'Argo CD' | 'Flux' | 'Helm' | 'kubectl apply' | 'controller';

export interface SecretOwner {
  kind: OwnerKind;
  /** What on the Secret says so: `ownerReferences ExternalSecret/app-secrets`, `label app.kubernetes.io/managed-by: Helm`. */
  evidence: string;
  /**
   * True when the owner writes the Secret from a store rotate cannot write (an external secret manager, a sealed
   * manifest, another controller): no `target.source` can stand for it.
   */
  external: boolean;
}

export interface SecretMetadata {
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  ownerReferences?: { apiVersion?: string; kind?: string; name?: string; controller?: boolean }[] | null;
  managedFields?: { manager?: string; operation?: string }[] | null;
}

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** managedFields managers of the controllers that own what they write. */
const MANAGERS: Record<string, OwnerKind> = {
  'argocd-controller': 'Argo CD',
  'argocd-application-controller': 'Argo CD',
  'kustomize-controller': 'Flux',
  'helm-controller': 'Flux',
  helm: 'Helm',
  'external-secrets': 'ExternalSecret',
  'sealed-secrets-controller': 'SealedSecret',
  'kubectl-client-side-apply': 'kubectl apply',
};

/** Every owner the metadata names, each kind once (its first evidence), in the order a reader should fix them. */
export function secretOwners(metadata: SecretMetadata): SecretOwner[] {
  const labels = metadata.labels ?? {};
  const annotations = metadata.annotations ?? {};
  const found: SecretOwner[] = [];
  const add = (kind: OwnerKind, evidence: string, external = false) => {
    if (!found.some((owner) => owner.kind === kind)) found.push({ kind, evidence, external });
  };

  for (const ref of metadata.ownerReferences ?? []) {
    const what = `ownerReferences ${ref.kind ?? '?'}/${ref.name ?? '?'}`;
    if (ref.kind === 'ExternalSecret' || ref.apiVersion?.startsWith('external-secrets.io/')) add('ExternalSecret', what, true);
    else if (ref.kind === 'SealedSecret' || ref.apiVersion?.startsWith('bitnami.com/')) add('SealedSecret', what, true);
    else if (ref.controller) add('controller', `${what} (${ref.apiVersion ?? 'unknown API'})`, true);
  }

  const managedBy = labels['app.kubernetes.io/managed-by'] ?? '';
  const argoManaged = /argo/i.test(managedBy);
  if (annotations['argocd.argoproj.io/tracking-id'] !== undefined) {
    add('Argo CD', `annotation argocd.argoproj.io/tracking-id: ${annotations['argocd.argoproj.io/tracking-id']}`);
  }
  if (labels['app.kubernetes.io/instance'] !== undefined && (argoManaged || managerOf(metadata, 'Argo CD'))) {
    add('Argo CD', `label app.kubernetes.io/instance: ${labels['app.kubernetes.io/instance']} (managed by Argo CD)`);
  }
  if (argoManaged) add('Argo CD', `label app.kubernetes.io/managed-by: ${managedBy}`);

  const flux = Object.keys(labels).find((key) => /^(kustomize|helm)\.toolkit\.fluxcd\.io\//.test(key));
  if (flux) add('Flux', `label ${flux}: ${labels[flux]}`);

  if (managedBy === 'Helm') add('Helm', 'label app.kubernetes.io/managed-by: Helm');
  const helmAnnotation = Object.keys(annotations).find((key) => key.startsWith('meta.helm.sh/'));
  if (helmAnnotation) add('Helm', `annotation ${helmAnnotation}: ${annotations[helmAnnotation]}`);

  for (const entry of metadata.managedFields ?? []) {
    const kind = MANAGERS[entry.manager ?? ''];
    if (kind) add(kind, `managedFields manager ${entry.manager}`, kind === 'ExternalSecret' || kind === 'SealedSecret');
    // `kubectl apply --server-side` manages its fields under the manager `kubectl` with the operation Apply.
    else if (entry.manager === 'kubectl' && entry.operation === 'Apply')
      add('kubectl apply', 'managedFields manager kubectl (server-side apply)');
  }

  // Never the annotation's value: it is the last applied manifest, values included.
  if (annotations[LAST_APPLIED] !== undefined) add('kubectl apply', `annotation ${LAST_APPLIED}`);
  return found;
}

const managerOf = (metadata: SecretMetadata, kind: OwnerKind): boolean =>
  (metadata.managedFields ?? []).some((entry) => MANAGERS[entry.manager ?? ''] === kind);

/** What each owner does to a patched Secret, for the refusal's message. */
export function ownerEffect(owner: SecretOwner): string {
  switch (owner.kind) {
    case 'ExternalSecret':
      return 'the External Secrets Operator writes it from the external secret store at its next refresh';
    case 'SealedSecret':
      return 'the sealed-secrets controller writes it from the SealedSecret at its next reconcile';
    case 'Argo CD':
      return 'Argo CD syncs it back to what the Git repository holds';
    case 'Flux':
      return 'Flux reconciles it back to what the Git repository holds';
    case 'Helm':
      return 'the next helm upgrade renders it from the chart values again';
    case 'kubectl apply':
      return 'the next kubectl apply -f of its manifest writes the manifest values back';
    default:
      return 'its controller writes it back at its next reconcile';
  }
}

/** The fix for an owner: name the file it is deployed from, or rotate the value where the controller reads it. */
export function ownerFix(owner: SecretOwner): string {
  const source =
    'name the file the Secret is deployed from in target.source: { "file": "k8s/secrets.yaml" } (a Secret manifest or an env file; docs/kubernetes.md)';
  switch (owner.kind) {
    case 'ExternalSecret':
      return 'rotate the value in the external secret store the ExternalSecret reads (or remove the ExternalSecret and manage the Secret with rotate)';
    case 'SealedSecret':
      return 're-seal the new value with kubeseal and commit the SealedSecret (rotate cannot write a sealed manifest)';
    case 'controller':
      return 'rotate the value where that controller reads it, or remove its ownerReference';
    case 'Argo CD':
    case 'Flux':
      return `${source} with git: { remote, branch } (an encrypted file only): rotate will commit and push it, then wait for the controller to deploy the new value`;
    case 'Helm':
      return `${source}, or rotate the value in the chart values and let helm upgrade deploy it`;
    default:
      return source;
  }
}
