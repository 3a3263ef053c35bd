/**
 * Reading configuration from PORTCULLIS_* environment variables, the same way in every process
 * (the PDP, the PEPs): blank counts as unset, values are trimmed, and a bad value is a
 * ConfigError that names the variable and what it must be.
 */
export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`configuration ${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export type EnvRead = (name: string) => string | undefined;

/** A reader over `env` where an empty or blank value reads as unset. */
export function envReader(env: NodeJS.ProcessEnv): EnvRead {
  return (name) => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
}

export function configFail(variable: string, problem: string): never {
  throw new ConfigError(variable, problem);
}

export function integer(read: EnvRead, name: string, fallback: number, min: number, max: number): number {
  const raw = read(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) configFail(name, `must be an integer from ${min} to ${max} (got "${raw}")`);
  return value;
}

export function boolean(read: EnvRead, name: string, fallback: boolean): boolean {
  const raw = read(name);
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  return configFail(name, `must be true or false (got "${raw}")`);
}

export function oneOf<T extends string>(read: EnvRead, name: string, values: readonly T[], fallback: T): T {
  const raw = read(name);
  if (raw === undefined) return fallback;
  if (!(values as readonly string[]).includes(raw)) configFail(name, `must be one of ${values.join(', ')} (got "${raw}")`);
  return raw as T;
}

/** `{ key: value }` when the value is set, `{}` otherwise: for optional config fields. */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** A loaded config is frozen all the way down: nothing may change it after start. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
