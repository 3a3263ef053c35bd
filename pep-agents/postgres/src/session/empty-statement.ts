// The characters PostgreSQL's lexer skips between tokens (scan.l `space`, \v only since 16): any
// other one, U+00A0 and U+FEFF included, is part of a token, so JavaScript's trim() is not this test.
const POSTGRES_SPACE_ONLY = /^[ \t\n\r\f]*$/;

/** Text the server reads as no statement at all (EmptyQueryResponse): it runs nothing, so it needs no decision. */
export function isEmptyStatement(sql: string): boolean {
  return POSTGRES_SPACE_ONLY.test(sql);
}
