// Who owns a Secret, read from its metadata: one case per kind of owner, and a Secret rotate may write alone.
import { describe, expect, it } from 'vitest';
import { LAST_APPLIED, ownerFix, type SecretMetadata, secretOwners } from '../../src/kubernetes/ownership.js';

const kinds = (metadata: SecretMetadata) => secretOwners(metadata).map((owner) => owner.kind);

describe('secretOwners', () => {
  it('an ExternalSecret or SealedSecret owner reference is an owner no source can stand for', () => {
    const external = secretOwners({
      ownerReferences: [{ apiVersion: 'external-secrets.io/v1beta1', kind: 'ExternalSecret', name: 'app', controller: true }],
    });
    expect(external).toEqual([{ kind: 'ExternalSecret', evidence: 'ownerReferences ExternalSecret/app', external: true }]);
    const sealed = secretOwners({ ownerReferences: [{ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', name: 'app' }] });
    expect(sealed[0]).toMatchObject({ kind: 'SealedSecret', external: true });
    expect(ownerFix(sealed[0]!)).toContain('kubeseal');
    expect(kinds({ ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Vault', name: 'x', controller: true }] })).toEqual([
      'controller',
    ]);
    // A plain owner reference that is not a controller (garbage collection only) writes nothing back.
    expect(kinds({ ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'x' }] })).toEqual([]);
  });

  it('Argo CD: the tracking-id annotation, or the instance label with Argo as manager', () => {
    expect(kinds({ annotations: { 'argocd.argoproj.io/tracking-id': 'shop:/Secret:co/app' } })).toEqual(['Argo CD']);
    expect(
      kinds({ labels: { 'app.kubernetes.io/instance': 'shop' }, managedFields: [{ manager: 'argocd-controller', operation: 'Update' }] }),
    ).toEqual(['Argo CD']);
    expect(kinds({ labels: { 'app.kubernetes.io/instance': 'shop', 'app.kubernetes.io/managed-by': 'argocd' } })).toEqual(['Argo CD']);
    // The instance label alone is common to every chart: not Argo's evidence by itself.
    expect(kinds({ labels: { 'app.kubernetes.io/instance': 'shop' } })).toEqual([]);
  });

  it('Flux: kustomize.toolkit.fluxcd.io labels, or its controllers as field managers', () => {
    expect(
      kinds({ labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } }),
    ).toEqual(['Flux']);
    expect(kinds({ managedFields: [{ manager: 'kustomize-controller', operation: 'Apply' }] })).toEqual(['Flux']);
  });

  it('Helm: the managed-by label or meta.helm.sh annotations', () => {
    expect(kinds({ labels: { 'app.kubernetes.io/managed-by': 'Helm' } })).toEqual(['Helm']);
    const owners = secretOwners({ annotations: { 'meta.helm.sh/release-name': 'shop', 'meta.helm.sh/release-namespace': 'co' } });
    expect(owners).toEqual([{ kind: 'Helm', evidence: 'annotation meta.helm.sh/release-name: shop', external: false }]);
  });

  it('kubectl apply: the last-applied annotation (never its content) or a server-side apply by kubectl', () => {
    const value = 'hunter2-in-the-manifest';
    const owners = secretOwners({ annotations: { [LAST_APPLIED]: JSON.stringify({ stringData: { JWT_SECRET: value } }) } });
    expect(owners).toEqual([{ kind: 'kubectl apply', evidence: `annotation ${LAST_APPLIED}`, external: false }]);
    expect(JSON.stringify(owners)).not.toContain(value);
    expect(kinds({ managedFields: [{ manager: 'kubectl', operation: 'Apply' }] })).toEqual(['kubectl apply']);
    expect(kinds({ managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update' }] })).toEqual(['kubectl apply']);
    // kubectl create / edit leave no file behind to write the old value back.
    expect(
      kinds({
        managedFields: [
          { manager: 'kubectl-create', operation: 'Update' },
          { manager: 'rotate', operation: 'Update' },
        ],
      }),
    ).toEqual([]);
  });

  it('several owners: each kind once, the controller before kubectl apply', () => {
    expect(
      kinds({
        labels: { 'app.kubernetes.io/managed-by': 'Helm' },
        annotations: { [LAST_APPLIED]: '{}', 'meta.helm.sh/release-name': 'shop' },
        managedFields: [{ manager: 'helm', operation: 'Update' }],
      }),
    ).toEqual(['Helm', 'kubectl apply']);
  });
});
