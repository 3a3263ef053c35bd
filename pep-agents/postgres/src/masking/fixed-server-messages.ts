/**
 * PostgreSQL's messages (as the server writes them with lc_messages in English) that have no
 * variable part: a reduced error or notice keeps such a message, compared whole, because it can
 * only say which of these things happened, which its SQLSTATE says already. Clients and people
 * read them (`canceling statement due to user request`, `current transaction is aborted …`).
 */
export const FIXED_SERVER_MESSAGES: ReadonlySet<string> = new Set([
  // 57014, 57P01–57P05, 25P03
  'canceling statement due to user request',
  'canceling statement due to statement timeout',
  'canceling statement due to lock timeout',
  'canceling statement due to conflict with recovery',
  'canceling autovacuum task',
  'terminating connection due to administrator command',
  'terminating connection due to idle-in-transaction timeout',
  'terminating connection due to idle-session timeout',
  'terminating connection due to conflict with recovery',
  'terminating connection due to unexpected postmaster exit',
  'the database system is shutting down',
  'the database system is starting up',
  // transactions: 25P02, 25P01, 25001, 25006, 40001, 40P01
  'current transaction is aborted, commands ignored until end of transaction block',
  'there is no transaction in progress',
  'there is already a transaction in progress',
  'SET TRANSACTION ISOLATION LEVEL must be called before any query',
  'could not serialize access due to concurrent update',
  'could not serialize access due to concurrent delete',
  'could not serialize access due to read/write dependencies among transactions',
  'deadlock detected',
  // arithmetic: 22012, 22003, 2201F …
  'division by zero',
  'integer out of range',
  'bigint out of range',
  'smallint out of range',
  'numeric field overflow',
  'value out of range: overflow',
  'value out of range: underflow',
  'zero raised to a negative power is undefined',
  'a negative number raised to a non-integer power yields a complex result',
  'cannot take logarithm of zero',
  'cannot take logarithm of a negative number',
  'cannot take square root of a negative number',
  'interval out of range',
  'timestamp out of range',
  'date out of range',
  // 21000, P0002, P0003, 0A000, 24000
  'more than one row returned by a subquery used as an expression',
  'query returned no rows',
  'query returned more than one row',
  'cursor can only scan forward',
  'cannot insert multiple commands into a prepared statement',
]);
