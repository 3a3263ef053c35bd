/** Result masking for the Postgres PEP: what the session wires in. */
export type { CatalogColumn, CatalogResolver, CatalogTable } from './catalog-resolver.ts';
export { PgCatalogResolver, type CatalogQueryRunner, type PgCatalogResolverOptions } from './pg-catalog-resolver.ts';
export type { CopyOutAwareResultMasker, ResultMasker, ResultMaskerOptions } from './result-masker.ts';
export { createResultMasker } from './postgres-result-masker.ts';
export { SessionMaskerFactory, type SessionMaskerFactoryOptions } from './session-masker-factory.ts';
export { readStatementResultFacts, type StatementCopyFormat, type StatementOutput, type StatementResultFacts } from './statement-result-facts.ts';
export { PgViewDefinitions } from './pg-view-definitions.ts';
export type { ViewDefinition, ViewDefinitionSource } from './view-definition.ts';
export { ViewLineageResolver, type ViewLineageResolverOptions, type ViewLineageSource } from './view-lineage-resolver.ts';
export type { OpaqueRelations } from './relation-knowledge.ts';
export { PdpSqlOutputsClient, type SqlOutputsAnalyzer, type SqlOutputsResult } from './sql-outputs-client.ts';
