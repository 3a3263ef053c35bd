/**
 * Top-level parse node → the statement kind policy reasons about. Anything not listed is
 * "other", which policy denies: a new PostgreSQL statement type stays closed until mapped here.
 */
import { objectField, stringField, type AstObject } from "./ast-nodes.ts";
import { declaredQuery } from "./cursor-facts.ts";
import type { SqlStatementKind } from "./sql-facts.ts";

const DDL_NODES = [
  "AlterCollationStmt",
  "AlterDatabaseRefreshCollStmt",
  "AlterDatabaseSetStmt",
  "AlterDatabaseStmt",
  "AlterDomainStmt",
  "AlterEnumStmt",
  "AlterEventTrigStmt",
  "AlterExtensionContentsStmt",
  "AlterExtensionStmt",
  "AlterFdwStmt",
  "AlterForeignServerStmt",
  "AlterFunctionStmt",
  "AlterObjectDependsStmt",
  "AlterObjectSchemaStmt",
  "AlterOpFamilyStmt",
  "AlterOperatorStmt",
  "AlterOwnerStmt",
  "AlterPolicyStmt",
  "AlterPublicationStmt",
  "AlterSeqStmt",
  "AlterStatsStmt",
  "AlterSubscriptionStmt",
  "AlterSystemStmt",
  "AlterTSConfigurationStmt",
  "AlterTSDictionaryStmt",
  "AlterTableMoveAllStmt",
  "AlterTableSpaceOptionsStmt",
  "AlterTableStmt",
  "AlterTypeStmt",
  "AlterUserMappingStmt",
  "CommentStmt",
  "CompositeTypeStmt",
  "CreateAmStmt",
  "CreateCastStmt",
  "CreateConversionStmt",
  "CreateDomainStmt",
  "CreateEnumStmt",
  "CreateEventTrigStmt",
  "CreateExtensionStmt",
  "CreateFdwStmt",
  "CreateForeignServerStmt",
  "CreateForeignTableStmt",
  "CreateFunctionStmt",
  "CreateOpClassStmt",
  "CreateOpFamilyStmt",
  "CreatePLangStmt",
  "CreatePolicyStmt",
  "CreatePublicationStmt",
  "CreateRangeStmt",
  "CreateSchemaStmt",
  "CreateSeqStmt",
  "CreateStatsStmt",
  "CreateStmt",
  "CreateSubscriptionStmt",
  "CreateTableAsStmt",
  "CreateTableSpaceStmt",
  "CreateTransformStmt",
  "CreateTrigStmt",
  "CreateUserMappingStmt",
  "CreatedbStmt",
  "DefineStmt",
  "DropOwnedStmt",
  "DropStmt",
  "DropSubscriptionStmt",
  "DropTableSpaceStmt",
  "DropUserMappingStmt",
  "DropdbStmt",
  "ImportForeignSchemaStmt",
  "IndexStmt",
  "ReassignOwnedStmt",
  "RefreshMatViewStmt",
  "RenameStmt",
  "ReplicaIdentityStmt",
  "RuleStmt",
  "SecLabelStmt",
  "ViewStmt",
] as const;

/**
 * Every statement node the parser can produce, classified. Nodes mapped to "other" are known
 * and left to policy's default deny on purpose (LOAD, PL/pgSQL-only nodes). DECLARE … CURSOR
 * takes its query's kind (see statementKind); FETCH, MOVE and CLOSE are "cursor".
 */
export const STATEMENT_NODE_KINDS: ReadonlyMap<string, SqlStatementKind> = new Map<string, SqlStatementKind>([
  ["SelectStmt", "select"],
  ["InsertStmt", "insert"],
  ["UpdateStmt", "update"],
  ["DeleteStmt", "delete"],
  ["MergeStmt", "merge"],
  ["VariableShowStmt", "show"],
  ["ExplainStmt", "explain"],
  ["TransactionStmt", "transaction"],
  ["VariableSetStmt", "set"],
  ["ConstraintsSetStmt", "set"],
  ["DiscardStmt", "set"],
  ["GrantStmt", "grant"],
  ["AlterDefaultPrivilegesStmt", "grant"],
  ["CreateRoleStmt", "role"],
  ["AlterRoleStmt", "role"],
  ["AlterRoleSetStmt", "role"],
  ["DropRoleStmt", "role"],
  ["GrantRoleStmt", "role"],
  ["TruncateStmt", "truncate"],
  ["CopyStmt", "copy"],
  ["DoStmt", "do"],
  ["CallStmt", "call"],
  ["PrepareStmt", "prepare"],
  ["ExecuteStmt", "execute"],
  ["DeallocateStmt", "deallocate"],
  ["VacuumStmt", "maintenance"],
  ["ClusterStmt", "maintenance"],
  ["ReindexStmt", "maintenance"],
  ["CheckPointStmt", "maintenance"],
  ["ListenStmt", "listen"],
  ["NotifyStmt", "listen"],
  ["UnlistenStmt", "listen"],
  ["LockStmt", "lock"],
  ...DDL_NODES.map((node): [string, SqlStatementKind] => [node, "ddl"]),
  ["DeclareCursorStmt", "other"], // only when it has no query: see statementKind
  ["FetchStmt", "cursor"],
  ["ClosePortalStmt", "cursor"],
  ["LoadStmt", "other"],
  ["ReturnStmt", "other"],
  ["PLAssignStmt", "other"],
]);

export function statementKind(node: string, body: AstObject): SqlStatementKind {
  // A cursor's rows are its query's: DECLARE is judged as that query (a write stays a write).
  const query = declaredQuery(node, body);
  if (query) return statementKind(query.type, query.body);
  // SELECT … INTO creates a table: PostgreSQL itself runs it as CREATE TABLE AS.
  if (node === "SelectStmt" && objectField(body, "intoClause")) return "ddl";
  // ALTER ROLE/USER/GROUP … RENAME TO is a RenameStmt; it is role management, not DDL.
  if (node === "RenameStmt" && stringField(body, "renameType") === "OBJECT_ROLE") return "role";
  return STATEMENT_NODE_KINDS.get(node) ?? "other";
}
