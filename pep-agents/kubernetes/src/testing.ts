/** Internals the cross-package suites exercise directly (request-target rules, Status shapes). */
export { readRequestTarget, pathProblem } from './request/request-target.ts';
export { kubeStatus, type KubeStatus } from './status/kube-status.ts';
export { DiscoveryCache } from './discovery/discovery-cache.ts';
export { isDiscoveryPath } from './discovery/discovery-paths.ts';
