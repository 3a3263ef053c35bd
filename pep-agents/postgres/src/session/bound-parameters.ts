import type { SqlParameterV1 } from '@portcullis/pep-core';
import { PgError, SQLSTATE } from '../errors/pg-error.ts';
import type { BindMessage } from '../protocol/frontend-messages.ts';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A Bind's parameter values as the PDP and the approver see them: text, exactly as the server will
 * read it (the session's client_encoding is UTF8), with the type the client declared at Parse. A
 * binary value has no faithful text form short of knowing its type's send format, so a statement
 * that needs approval must be bound with text parameters: anything else is refused, never guessed.
 */
export function renderBoundParameters(bind: BindMessage, parameterTypes: readonly number[]): SqlParameterV1[] | PgError {
  const { parameterFormats: formats, parameters } = bind;
  if (formats.length > 1 && formats.length !== parameters.length) {
    return new PgError(SQLSTATE.protocolViolation, `bind message has ${formats.length} parameter formats but ${parameters.length} parameters`);
  }
  const rendered: SqlParameterV1[] = [];
  for (const [index, bytes] of parameters.entries()) {
    const format = formats.length === 0 ? 0 : formats.length === 1 ? formats[0]! : formats[index]!;
    const typeOid = parameterTypes[index];
    const type = typeOid ? { type_oid: typeOid } : {};
    if (bytes === null) {
      rendered.push({ value: null, ...type });
      continue;
    }
    if (format !== 0) {
      return new PgError(SQLSTATE.featureNotSupported, `portcullis: parameter $${index + 1} is binary; a statement that needs approval must be bound with text parameters`, {
        hint: 'The approver is shown every value; send the parameters in text format.',
      });
    }
    try {
      rendered.push({ value: UTF8.decode(bytes), ...type });
    } catch {
      return new PgError('22021', `invalid byte sequence for encoding "UTF8" in parameter $${index + 1}`);
    }
  }
  return rendered;
}
