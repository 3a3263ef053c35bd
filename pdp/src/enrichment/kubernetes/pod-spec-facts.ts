/**
 * The pod specs an object carries, wherever they sit: a Pod's `spec`, the template of a
 * Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, ReplicationController or PodTemplate, a
 * CronJob's job template, and any custom resource that embeds one (a controller will run it just
 * the same). A pod spec is recognised by its shape (an object with a `containers`,
 * `initContainers` or `ephemeralContainers` array), not by the object's `kind`, so no kind is
 * missed. Field names are read case-sensitively, as the API server decodes JSON.
 *
 * Where a field could mean danger but is not the plain type Kubernetes expects, it reads as the
 * dangerous value (the API server would reject it, so nothing is lost by refusing).
 */
import type { ContainerKind, KubernetesContainerFacts, KubernetesPodSpecFacts } from './kubernetes-facts.ts';

/** Deeper objects or more nodes are not searched: the caller reports the object as unreadable. */
const MAX_DEPTH = 64;
const MAX_NODES = 200_000;

const CONTAINER_LISTS: ReadonlyArray<readonly [field: string, kind: ContainerKind]> = [
  ['containers', 'container'],
  ['initContainers', 'init'],
  ['ephemeralContainers', 'ephemeral'],
];

export class ObjectTooLargeError extends Error {}

/** Every pod spec in `object`, outermost first; throws ObjectTooLargeError past the limits. */
export function findPodSpecs(object: unknown): KubernetesPodSpecFacts[] {
  const found: KubernetesPodSpecFacts[] = [];
  let nodes = 0;
  const visit = (value: unknown, path: string[], depth: number): void => {
    if (++nodes > MAX_NODES || depth > MAX_DEPTH) throw new ObjectTooLargeError('the object is too large or too deeply nested to judge');
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, [...path, String(index)], depth + 1));
      return;
    }
    if (!isRecord(value)) return;
    if (isPodSpec(value)) found.push(podSpecFacts(value, path.join('.')));
    for (const [key, inner] of Object.entries(value)) visit(inner, [...path, key], depth + 1);
  };
  visit(object, [], 0);
  return found;
}

function isPodSpec(value: Record<string, unknown>): boolean {
  return CONTAINER_LISTS.some(([field]) => Array.isArray(value[field]));
}

function podSpecFacts(spec: Record<string, unknown>, at: string): KubernetesPodSpecFacts {
  const podContext = record(spec.securityContext);
  const containers = CONTAINER_LISTS.flatMap(([field, kind]) => list(spec[field]).map((container) => containerFacts(record(container), kind, podContext)));
  return {
    at,
    service_account: text(spec.serviceAccountName) ?? text(spec.serviceAccount),
    host_network: flag(spec.hostNetwork),
    host_pid: flag(spec.hostPID),
    host_ipc: flag(spec.hostIPC),
    host_path_volumes: list(spec.volumes)
      .map((volume) => record(volume).hostPath)
      .filter((hostPath) => hostPath !== undefined && hostPath !== null)
      .map((hostPath) => text(record(hostPath).path) ?? ''),
    containers,
  };
}

function containerFacts(container: Record<string, unknown>, kind: ContainerKind, podContext: Record<string, unknown>): KubernetesContainerFacts {
  const context = record(container.securityContext);
  const escalation = context.allowPrivilegeEscalation;
  return {
    name: text(container.name),
    kind,
    image: text(container.image),
    privileged: flag(context.privileged) || flag(record(context.windowsOptions).hostProcess) || flag(record(podContext.windowsOptions).hostProcess),
    allow_privilege_escalation: escalation === undefined || escalation === null ? null : escalation !== false,
    added_capabilities: list(record(context.capabilities).add).map(capabilityName),
    run_as_user: userId(context.runAsUser) ?? userId(podContext.runAsUser),
    host_ports: list(container.ports)
      .map((port) => record(port).hostPort)
      .filter((hostPort) => hostPort !== undefined && hostPort !== null && hostPort !== 0)
      .map((hostPort) => (typeof hostPort === 'number' && Number.isInteger(hostPort) ? hostPort : -1)),
    unconfined: PROFILES.filter((profile) => unconfinedProfile(context[profile]) ?? unconfinedProfile(podContext[profile]) ?? false).map((profile) => PROFILE_NAMES[profile]),
    proc_mount_unmasked: context.procMount !== undefined && context.procMount !== null && context.procMount !== 'Default',
  };
}

const PROFILES = ['seccompProfile', 'appArmorProfile'] as const;
const PROFILE_NAMES: Readonly<Record<(typeof PROFILES)[number], string>> = { seccompProfile: 'seccomp', appArmorProfile: 'apparmor' };

/** Whether a profile set here is Unconfined (a value not an object with a string type reads as Unconfined); undefined when unset. */
function unconfinedProfile(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  const type = record(value).type;
  return typeof type !== 'string' || type === 'Unconfined';
}

/** Container runtimes accept a capability with or without CAP_, in any case. */
function capabilityName(value: unknown): string {
  if (typeof value !== 'string') return '?';
  const upper = value.trim().toUpperCase();
  return upper.startsWith('CAP_') ? upper.slice(4) : upper;
}

/** A set flag: anything but absent, null or false counts as set. */
function flag(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false;
}

/** A user id; a value that is set but not an integer reads as 0 (root), the dangerous reading. */
function userId(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'number' && Number.isInteger(value) ? value : 0;
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
