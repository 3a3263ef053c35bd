// The adversary corpus's data: objects a database may already hold (created by its owners, or
// by whoever had CREATE before the PEP stood in front of it) that an attacker can reach with
// statements policy reads one way and the server another. Each function below deletes the order
// whose id it is given, so "nothing ran" can be checked on the data as well as in the server log.
import { seedSql } from './bypass-corpus-fixtures.ts';

export function adversarySeedSql(): string {
  return `
    ${seedSql()}
    -- A domain whose check runs code: a parameter declared with this type at Parse runs it at Bind.
    CREATE DOMAIN archiving AS int CHECK (archive_order(VALUE) IS NOT NULL);
  `;
}
