/**
 * The options of exec, attach and port-forward, read from the query the way the API server
 * decodes PodExecOptions, PodAttachOptions and PodPortForwardOptions: a boolean is its first
 * value (absent, "0" or "false" in any case is false, anything else true), `container` its first
 * value, `command` every value in order, `ports` every value split on commas.
 */
import { goBool } from '../kubernetes-request-info.ts';
import type { ShellAnalyzer } from '../shell-analyzer.ts';
import type { KubernetesPortForwardFacts, KubernetesStreamFacts } from './kubernetes-facts.ts';

export async function execFacts(query: Map<string, string[]>, shell: ShellAnalyzer): Promise<KubernetesStreamFacts> {
  const command = query.get('command') ?? [];
  const analysis = command.length === 0 ? null : await shell.analyze(command.map(shellQuote).join(' '));
  return {
    ...attachFacts(query),
    command: [...command],
    shell: analysis === null ? null : { parse_error: analysis.parse_error, commands: analysis.commands, environment: analysis.environment },
  };
}

export function attachFacts(query: Map<string, string[]>): KubernetesStreamFacts {
  return {
    container: query.get('container')?.[0] ?? null,
    stdin: goBool(query.get('stdin')),
    stdout: goBool(query.get('stdout')),
    stderr: goBool(query.get('stderr')),
    tty: goBool(query.get('tty')),
    command: [],
    shell: null,
  };
}

export function portForwardFacts(query: Map<string, string[]>): KubernetesPortForwardFacts {
  const ports: number[] = [];
  for (const value of query.get('ports') ?? []) {
    for (const part of value.split(',')) {
      // The API server parses each as a base-10 integer; the pod's ports are 1-65535.
      if (!/^[0-9]{1,5}$/.test(part) || Number(part) < 1 || Number(part) > 65535) {
        return { ports: [], parse_error: `not a port number: ${JSON.stringify(part.slice(0, 32))}` };
      }
      ports.push(Number(part));
    }
  }
  return { ports, parse_error: null };
}

/**
 * The container runs the argv itself, with no shell: quoting every word makes the analyzer see
 * exactly that argv (and follow a `sh -c` script given as one of its words).
 */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
