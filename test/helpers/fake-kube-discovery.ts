// What the real kubectl asks the fake cluster before it reads or writes an object: the server version and API
// discovery (legacy, unaggregated form), for the resources the fake serves, and a small OpenAPI v3 document of the
// core group: enough for kubectl apply to see that the server validates fields itself (fieldValidation) and to build
// its strategic merge patch for a Secret. /openapi/v2 is not served (404), as on a server that dropped it.
const resource = (name: string, kind: string, verbs: string[], shortNames: string[] = []) => ({
  name,
  singularName: kind.toLowerCase(),
  namespaced: name !== 'namespaces',
  kind,
  verbs,
  ...(shortNames.length ? { shortNames } : {}),
});
const ALL = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

const DOCUMENTS: Record<string, unknown> = {
  '/version': { major: '1', minor: '32', gitVersion: 'v1.32.0-fake', platform: 'linux/amd64' },
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] },
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [
      {
        name: 'apps',
        versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
      },
      {
        name: 'batch',
        versions: [{ groupVersion: 'batch/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'batch/v1', version: 'v1' },
      },
    ],
  },
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [resource('secrets', 'Secret', ALL), resource('namespaces', 'Namespace', ['get', 'list'], ['ns'])],
  },
  '/apis/apps/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'apps/v1',
    resources: [
      resource('deployments', 'Deployment', ALL, ['deploy']),
      resource('statefulsets', 'StatefulSet', ALL, ['sts']),
      resource('daemonsets', 'DaemonSet', ALL, ['ds']),
    ],
  },
  '/apis/batch/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'batch/v1',
    resources: [resource('cronjobs', 'CronJob', ALL, ['cj'])],
  },
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const SECRET_GVK = { group: '', version: 'v1', kind: 'Secret' };
const stringMap = { type: 'object', additionalProperties: { type: 'string', default: '' } };
const QUERY = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({ name, in: 'query', schema: { type: 'string' } }));
const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];
const operation = (action: string, patch = false) => ({
  'x-kubernetes-group-version-kind': SECRET_GVK,
  'x-kubernetes-action': action,
  parameters: QUERY,
  requestBody: {
    content: Object.fromEntries(
      (patch ? PATCH_TYPES : ['*/*']).map((type) => [
        type,
        { schema: patch ? ref('io.k8s.apimachinery.pkg.apis.meta.v1.Patch') : ref('io.k8s.api.core.v1.Secret') },
      ]),
    ),
  },
  responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref('io.k8s.api.core.v1.Secret') } } } },
});

DOCUMENTS['/openapi/v3'] = { paths: { 'api/v1': { serverRelativeURL: '/openapi/v3/api/v1?hash=FAKE' } } };
DOCUMENTS['/openapi/v3/api/v1'] = {
  openapi: '3.0.0',
  info: { title: 'Kubernetes', version: 'v1.32.0-fake' },
  paths: {
    '/api/v1/namespaces/{namespace}/secrets': { post: operation('post') },
    '/api/v1/namespaces/{namespace}/secrets/{name}': {
      get: { ...operation('get'), requestBody: undefined },
      patch: operation('patch', true),
      put: operation('put'),
    },
  },
  components: {
    schemas: {
      'io.k8s.api.core.v1.Secret': {
        type: 'object',
        properties: {
          apiVersion: { type: 'string' },
          kind: { type: 'string' },
          metadata: { default: {}, allOf: [ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta')] },
          data: { type: 'object', additionalProperties: { type: 'string', format: 'byte' } },
          stringData: stringMap,
          type: { type: 'string' },
          immutable: { type: 'boolean' },
        },
        'x-kubernetes-group-version-kind': [SECRET_GVK],
      },
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
        type: 'object',
        properties: {
          name: { type: 'string' },
          namespace: { type: 'string' },
          annotations: stringMap,
          labels: stringMap,
          resourceVersion: { type: 'string' },
          uid: { type: 'string' },
          creationTimestamp: { type: 'string' },
        },
      },
      'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': { type: 'object' },
    },
  },
};

/** The discovery document at `path`, if it is one. */
export const discoveryDocument = (path: string): unknown => DOCUMENTS[path];
