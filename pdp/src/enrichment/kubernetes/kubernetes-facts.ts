/**
 * What the PDP reads out of a Kubernetes request for policy (docs/policy-input.md,
 * `action.type == "kubernetes"`): the pod specs a write will store, the options of an exec or
 * attach, the ports of a port-forward. Every field is always present (null or empty when it does
 * not apply), so a rule never depends on a field being defined.
 */
import type { EnrichedShellAction } from '../shell/shell-command.ts';

export type ContainerKind = 'container' | 'init' | 'ephemeral';

export interface KubernetesContainerFacts {
  name: string | null;
  kind: ContainerKind;
  /** As written; null when absent or not a string. */
  image: string | null;
  /** securityContext.privileged, or a Windows host-process container (equally unconfined). */
  privileged: boolean;
  /** securityContext.allowPrivilegeEscalation as written; null when unset (the runtime then allows it). */
  allow_privilege_escalation: boolean | null;
  /** securityContext.capabilities.add, upper case without a CAP_ prefix (as container runtimes read them); "?" for an entry that is not a string. */
  added_capabilities: string[];
  /** The effective runAsUser: the container's, else the pod's; null when neither sets one. */
  run_as_user: number | null;
  /** hostPort of each port that sets one (-1: set but not a number). */
  host_ports: number[];
  /** The confinement the container runs without: `seccomp` and/or `apparmor` profiles of type Unconfined (its own, else the pod's). */
  unconfined: string[];
  /** securityContext.procMount other than Default: /proc of the node unmasked in the container. */
  proc_mount_unmasked: boolean;
}

export interface KubernetesPodSpecFacts {
  /** Where the spec sits in the object: "spec" (a Pod), "spec.template.spec" (Deployment …), "spec.jobTemplate.spec.template.spec" (CronJob), "template.spec" (PodTemplate). */
  at: string;
  /** serviceAccountName (or the deprecated serviceAccount); null when unset (the namespace's default). */
  service_account: string | null;
  host_network: boolean;
  host_pid: boolean;
  host_ipc: boolean;
  /** hostPath.path of each hostPath volume ("" when the path is not a string). */
  host_path_volumes: string[];
  containers: KubernetesContainerFacts[];
}

/** A create, update or patch: what it will store. */
export interface KubernetesWriteFacts {
  /** What the facts were read from: the PEP's resolved `object`; for create/update without one, the JSON `body`; null: nothing readable. */
  source: 'object' | 'body' | null;
  /** Why the stored object cannot be judged (policy denies); null when it can. */
  problem: string | null;
  kind: string | null;
  api_version: string | null;
  /** Every pod spec anywhere in the object (a Pod's, a workload template's, a CRD's): what will run. */
  pod_specs: KubernetesPodSpecFacts[];
}

/** The options of an exec or attach (from the query, as the API server decodes PodExecOptions / PodAttachOptions). */
export interface KubernetesStreamFacts {
  container: string | null;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** exec: the argv the container runs (every `command=` value, in order); attach: []. */
  command: string[];
  /** exec: the argv as the shell analyzer reads it (a `sh -c` script is followed into); attach or no command: null. */
  shell: Pick<EnrichedShellAction, 'parse_error' | 'commands' | 'environment'> | null;
}

export interface KubernetesPortForwardFacts {
  /** The pod ports asked for (`ports=`, comma-separated values too). */
  ports: number[];
  /** Why the ports cannot be read (policy denies); null when they can. */
  parse_error: string | null;
}

export interface KubernetesActionFacts {
  /** A request on Secrets with a body or object: their values are withheld from `body` and `object` (policy input, records, approvals). */
  secret_values_withheld: boolean;
  /** The path as the API server reads it (percent-decoded, slashes trimmed, query dropped); null when it cannot be read unambiguously. */
  canonical_path: string | null;
  write: KubernetesWriteFacts | null;
  exec: KubernetesStreamFacts | null;
  attach: KubernetesStreamFacts | null;
  port_forward: KubernetesPortForwardFacts | null;
}
