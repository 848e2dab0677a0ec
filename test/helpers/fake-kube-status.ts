// `Status` objects as the Kubernetes API server sends them with every error (kind Status, apiVersion v1), and the
// error type the fake's handlers throw to answer with one.

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string };
  code: number;
}

export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: KubeStatus['details'],
  ) {
    super(message);
  }

  toStatus(): KubeStatus {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

export const notFound = (resource: string, name: string, group = '') =>
  new StatusError(404, 'NotFound', `${resource}${group ? `.${group}` : ''} "${name}" not found`, { name, group, kind: resource });

export const conflict = (resource: string, name: string, group = '') =>
  new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${resource}${group ? `.${group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group, kind: resource },
  );

export const forbidden = (user: string, verb: string, resource: string, group: string, namespace: string, name?: string) =>
  new StatusError(
    403,
    'Forbidden',
    `${resource}${group ? `.${group}` : ''}${name ? ` "${name}"` : ''} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${namespace}"`,
    { name, group, kind: resource },
  );

export const unauthorized = () => new StatusError(401, 'Unauthorized', 'Unauthorized');

export const badRequest = (message: string) => new StatusError(400, 'BadRequest', message);

export const invalid = (resource: string, name: string, message: string) =>
  new StatusError(422, 'Invalid', `${resource} "${name}" is invalid: ${message}`, { name, kind: resource });

export const unsupportedMediaType = (type: string) =>
  new StatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${type})`,
  );
