// The platform's production layout (PLATFORM.md, "The platform in production") in the fake cluster, for
// `rotate init --from-kubernetes`: one Secret in namespace cryptoorchestrator whose keys are the env names, read by
// the backend (envFrom plus secretKeyRef, and an initContainer that runs migrations), the Celery worker and beat
// (envFrom plus secretKeyRef), the Redis StatefulSet (REDIS_PASSWORD only), a backup CronJob (DATABASE_URL) and a
// log shipper DaemonSet (a volume of one key); the frontend reads nothing. Workloads have 0 replicas (no pods run)
// unless `replicas` says otherwise: init reads specs only.
import type { FakeKube } from './fake-kube.js';
import type { JsonObject } from './fake-kube-patch.js';
import { IMAGES } from './fake-kube-pods.js';

export const PLATFORM_NS = 'cryptoorchestrator';
export const PLATFORM_SECRET = 'cryptoorchestrator-secrets';

const keyRef = (name: string, key = name, secret = PLATFORM_SECRET) => ({ name, valueFrom: { secretKeyRef: { name: secret, key } } });
const envFrom = (secret = PLATFORM_SECRET) => [{ secretRef: { name: secret } }];

function podTemplate(name: string, containers: JsonObject[], extra: JsonObject = {}): JsonObject {
  return { metadata: { labels: { app: name } }, spec: { containers, ...extra } };
}

/** Creates the platform's workloads (the Secret is the caller's: its values are the test's). */
export function createPlatformWorkloads(kube: FakeKube, options: { namespace?: string; secret?: string } = {}): void {
  const ns = options.namespace ?? PLATFORM_NS;
  const secret = options.secret ?? PLATFORM_SECRET;
  const app = IMAGES.app;
  const workload = (kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', name: string, template: JsonObject) => {
    const resource = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' }[kind] as 'deployments';
    const spec: JsonObject = { selector: { matchLabels: { app: name } }, template };
    if (kind !== 'DaemonSet') spec.replicas = 0;
    if (kind === 'StatefulSet') spec.serviceName = name;
    if (kind !== 'Deployment') spec.updateStrategy = { type: 'RollingUpdate' };
    kube.store.create({ resource, namespace: ns, name }, { apiVersion: 'apps/v1', kind, spec });
  };
  workload(
    'Deployment',
    'backend',
    podTemplate(
      'backend',
      [
        {
          name: 'api',
          image: app,
          envFrom: envFrom(secret),
          env: [keyRef('DATABASE_URL', 'DATABASE_URL', secret), keyRef('REDIS_URL', 'REDIS_URL', secret)],
        },
      ],
      { initContainers: [{ name: 'migrate', image: app, envFrom: envFrom(secret) }] },
    ),
  );
  for (const name of ['celery-worker', 'celery-beat']) {
    workload(
      'Deployment',
      name,
      podTemplate(name, [
        {
          name: 'celery',
          image: app,
          envFrom: envFrom(secret),
          env: ['DATABASE_URL', 'CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND'].map((key) => keyRef(key, key, secret)),
        },
      ]),
    );
  }
  workload(
    'StatefulSet',
    'redis',
    podTemplate('redis', [{ name: 'redis', image: IMAGES.redis, env: [keyRef('REDIS_PASSWORD', 'REDIS_PASSWORD', secret)] }]),
  );
  workload('Deployment', 'frontend', podTemplate('frontend', [{ name: 'nginx', image: 'nginx:alpine' }]));
  // A DaemonSet would run a pod on the fake's node: it has none to run when nothing schedules it (nodeSelector).
  workload(
    'DaemonSet',
    'log-shipper',
    podTemplate('log-shipper', [{ name: 'ship', image: app, volumeMounts: [{ name: 'dsn', mountPath: '/etc/sentry' }] }], {
      nodeSelector: { 'rotate.test/none': 'true' },
      volumes: [{ name: 'dsn', secret: { secretName: secret, items: [{ key: 'SENTRY_DSN', path: 'dsn' }] } }],
    }),
  );
  kube.store.create(
    { resource: 'cronjobs', namespace: ns, name: 'db-backup' },
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      spec: {
        schedule: '0 3 * * *',
        jobTemplate: {
          spec: {
            template: podTemplate(
              'db-backup',
              [{ name: 'dump', image: 'postgres:15-alpine', env: [keyRef('DATABASE_URL', 'DATABASE_URL', secret)] }],
              { restartPolicy: 'OnFailure' },
            ),
          },
        },
      },
    },
  );
}
