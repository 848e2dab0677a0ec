// Role rules as RBAC evaluates them: a request is allowed when one rule of the token's Role matches its verb,
// resource (with API group) and, when the rule lists resourceNames, the object's name.

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  /** When set, only these objects; RBAC never matches a name-less request (list, create) against it. */
  resourceNames?: string[];
}

export interface Account {
  /** The user name the API server reports, e.g. `system:serviceaccount:cryptoorchestrator:rotate`. */
  user: string;
  /** Namespace the Role binds in; `*` for a ClusterRole binding. */
  namespace: string;
  rules: PolicyRule[];
}

export interface AccessRequest {
  verb: string;
  group: string;
  resource: string;
  namespace: string;
  name?: string;
}

const matches = (list: string[], value: string) => list.includes('*') || list.includes(value);

export function isAllowed(account: Account, request: AccessRequest): boolean {
  if (account.namespace !== '*' && account.namespace !== request.namespace) return false;
  return account.rules.some(
    (rule) =>
      matches(rule.verbs, request.verb) &&
      matches(rule.apiGroups, request.group) &&
      matches(rule.resources, request.resource) &&
      (!rule.resourceNames?.length || (request.name !== undefined && rule.resourceNames.includes(request.name))),
  );
}

/** Every verb on everything: a cluster admin. */
export const adminRules: PolicyRule[] = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];

/** get/list/watch on everything: a read-only account. */
export const readOnlyRules: PolicyRule[] = [{ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] }];
