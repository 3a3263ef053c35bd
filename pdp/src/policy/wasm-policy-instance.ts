/// <reference path="../types/webassembly.d.ts" />
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';

/**
 * One instantiated policy: the opa-wasm SDK wrapped so that input always travels as JSON bytes.
 * Passing bytes sidesteps two SDK traps: falsy inputs being dropped, and a second stringify.
 */
export class WasmPolicyInstance {
  private readonly encoder = new TextEncoder();

  private constructor(private readonly policy: LoadedPolicy) {}

  static async create(module: WebAssembly.Module, data: unknown): Promise<WasmPolicyInstance> {
    const policy = await loadPolicy(module);
    policy.setData(data as object);
    return new WasmPolicyInstance(policy);
  }

  get entrypoints(): string[] {
    return Object.keys(this.policy.entrypoints as Record<string, number>);
  }

  hasEntrypoint(entrypoint: string): boolean {
    return Object.hasOwn(this.policy.entrypoints, entrypoint);
  }

  /**
   * Returns the entrypoint's value, or undefined when the result set is empty.
   * An empty `inputJson` evaluates with no input at all (`input` undefined in Rego).
   */
  evaluate(entrypoint: string, inputJson: string): unknown {
    let input: ArrayBuffer | undefined;
    if (inputJson !== '') {
      const bytes = this.encoder.encode(inputJson);
      input = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    }
    let resultSet: unknown;
    try {
      resultSet = this.policy.evaluate(input, entrypoint);
    } catch (error) {
      // The SDK throws plain strings; give callers a real Error.
      throw error instanceof Error ? error : new Error(String(error));
    }
    if (!Array.isArray(resultSet) || resultSet.length === 0) return undefined;
    return (resultSet[0] as { result?: unknown }).result;
  }
}
