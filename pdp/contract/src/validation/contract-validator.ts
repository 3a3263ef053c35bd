import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import './time-format.ts';
import { firstFieldProblem, type FieldProblem } from './field-problem.ts';
import { knownFieldsCopy } from './known-fields-copy.ts';

/** A body read against a contract schema: its value (unknown fields dropped), or the first field refused. */
export type ContractReading<T> = { readonly ok: true; readonly value: T } | ({ readonly ok: false; readonly message: string } & FieldProblem);

/** One wire message's runtime check, compiled once from its schema. */
export interface ContractValidator<S extends TSchema> {
  readonly schema: S;
  /** Whether the value conforms (no copy, no explanation: the hot path). */
  check(value: unknown): value is Static<S>;
  /**
   * A conforming value as a fresh copy without the fields the contract does not name, or the
   * first refused field with a sentence starting with its name (`resource.name must not be empty`).
   */
  read(value: unknown, root?: string): ContractReading<Static<S>>;
}

export function contractValidator<S extends TSchema>(schema: S): ContractValidator<S> {
  const compiled: TypeCheck<S> = TypeCompiler.Compile(schema);
  const copyKnownFields = knownFieldsCopy(schema);
  return {
    schema,
    check: (value): value is Static<S> => compiled.Check(value),
    read(value, root = 'body') {
      if (compiled.Check(value)) return { ok: true, value: copyKnownFields(value) as Static<S> };
      const problem = firstFieldProblem(schema, value, root) ?? { field: root, problem: 'does not match the contract' };
      return { ok: false, ...problem, message: `${problem.field} ${problem.problem}` };
    },
  };
}
