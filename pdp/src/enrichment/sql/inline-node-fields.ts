/**
 * The parser's JSON wraps most child nodes as `{ "NodeType": { … } }`, but fields the protobuf
 * schema types as one concrete message are written bare (`DeleteStmt.relation` is a RangeVar
 * without the `RangeVar` key). A walker can only recognise those by parent type + field name.
 *
 * Listed: every bare field whose type the SQL walker treats specially (or that leads to one).
 * test/sql-analyzer.test.ts re-derives this list from @pgsql/types so a parser upgrade that adds
 * such a field fails the tests instead of silently hiding a table.
 */
export const INLINE_NODE_FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  IntoClause: { rel: "RangeVar" },
  ColumnDef: { identitySequence: "RangeVar" },
  TableLikeClause: { relation: "RangeVar" },
  PartitionCmd: { name: "RangeVar" },
  InsertStmt: {
    relation: "RangeVar",
    onConflictClause: "OnConflictClause",
    returningClause: "ReturningClause",
    withClause: "WithClause",
  },
  DeleteStmt: { relation: "RangeVar", returningClause: "ReturningClause", withClause: "WithClause" },
  UpdateStmt: { relation: "RangeVar", returningClause: "ReturningClause", withClause: "WithClause" },
  MergeStmt: { relation: "RangeVar", returningClause: "ReturningClause", withClause: "WithClause" },
  SelectStmt: { intoClause: "IntoClause", withClause: "WithClause", larg: "SelectStmt", rarg: "SelectStmt" },
  PLAssignStmt: { val: "SelectStmt" },
  AlterTableStmt: { relation: "RangeVar" },
  AlterDefaultPrivilegesStmt: { action: "GrantStmt" },
  CopyStmt: { relation: "RangeVar" },
  CreateStmt: { relation: "RangeVar" },
  Constraint: { pktable: "RangeVar" },
  CreateForeignTableStmt: { base: "CreateStmt" },
  CreatePolicyStmt: { table: "RangeVar" },
  AlterPolicyStmt: { table: "RangeVar" },
  CreateTrigStmt: { relation: "RangeVar", constrrel: "RangeVar" },
  CreateSeqStmt: { sequence: "RangeVar" },
  AlterSeqStmt: { sequence: "RangeVar" },
  IndexStmt: { relation: "RangeVar" },
  CallStmt: { funccall: "FuncCall" },
  RenameStmt: { relation: "RangeVar" },
  AlterObjectDependsStmt: { relation: "RangeVar" },
  AlterObjectSchemaStmt: { relation: "RangeVar" },
  AlterOwnerStmt: { relation: "RangeVar" },
  RuleStmt: { relation: "RangeVar" },
  CompositeTypeStmt: { typevar: "RangeVar" },
  ViewStmt: { view: "RangeVar" },
  ClusterStmt: { relation: "RangeVar" },
  VacuumRelation: { relation: "RangeVar" },
  CreateTableAsStmt: { into: "IntoClause" },
  RefreshMatViewStmt: { relation: "RangeVar" },
  ReindexStmt: { relation: "RangeVar" },
  PublicationTable: { relation: "RangeVar" },
  PublicationObjSpec: { pubtable: "PublicationTable" },
};

/** The node types the list above must cover wherever they appear bare. */
export const INLINE_TRACKED_TYPES: readonly string[] = [
  "RangeVar",
  "SelectStmt",
  "WithClause",
  "IntoClause",
  "ReturningClause",
  "OnConflictClause",
  "FuncCall",
  "CreateStmt",
  "PublicationTable",
  "GrantStmt",
];
