// The PDP as a library: what embeds it (tests, benchmarks, a host process) starts it, reads its
// configuration, mints development tokens and verifies its audit trail through this entry.
export { startPdp, PRODUCT_VERSION, type RunningPdp } from './main.ts';
export { loadPdpConfig, ConfigError, type PdpConfig } from './config/pdp-config.ts';
export { DevIssuer, devIssuerDirectory, type DevTokenRequest } from './identity/dev-issuer.ts';
export { PortcullisError, ERROR_CODES } from './errors/portcullis-error.ts';
export { createProcessLogger } from './logging/process-logger.ts';
export { OPA_VERSION } from './policy/opa-binary.ts';
export { runAuditCommand } from './cli/audit-command.ts';
export { runSessionsCommand } from './cli/sessions-command.ts';
export { playRecording } from './sessions/terminal-player.ts';
export { evidenceReport, type ControlLinesSource } from './audit/verification/audit-evidence.ts';
export { auditReport, type AuditReportOptions } from './replay/audit-report.ts';
export type { ControlLine, EvidenceReport } from './audit/verification/evidence-report.ts';
export { KafkaAuditReader } from './audit/verification/readers/kafka-audit-reader.ts';
// The audit trail's formats, for verifiers written apart from this one.
export { recordHash, sha256 } from './audit/trail/hash-chain.ts';
// A record's event body, whole, whichever form the record was written in.
export { auditBodyOf } from './audit/ocsf/portcullis-body.ts';
export { digestPayload } from './audit/trail/digest-record.ts';
export { checkpointPayload } from './audit/trail/producer-checkpoint.ts';
export { loadOrCreateSigningKey } from './keys/signing-key-store.ts';
export { auditSigningDirectory } from './audit/trail/digest-signer.ts';
export { HIDDEN_CHARACTER, hiddenCharacterName } from './approvals/hidden-characters.ts';
export { buildPolicyInput } from './decisions/policy-input.ts';
export { ActionEnricher } from './enrichment/action-enricher.ts';
export { createSqlAnalyzer, type SqlAnalyzer } from './enrichment/sql-analyzer.ts';
export { selectOutputs } from './enrichment/select-outputs.ts';
// Replay: recorded decisions evaluated again (audit replay, policy impact).
export { parsePolicyBundle, type PolicyBundle } from './policy/policy-bundle.ts';
export { policyInputOfRecord, withheldFromInput } from './replay/policy-input-of-record.ts';
export { decisionRecordOf, UnreplayableRecordError, type DecisionRecord } from './replay/decision-record.ts';
export { recordedPolicyOutcome, type ReplayOutcome } from './replay/recorded-policy-outcome.ts';
export { DecisionReplayer, differencesBetween, type ReplayDifference, type ReplayResult } from './replay/decision-replayer.ts';
export { BundleArchiveError, type ArchivedBundle, type BundleArchiveReader } from './replay/bundle-archive-reader.ts';
export { FolderBundleArchiveReader } from './replay/folder-bundle-archive-reader.ts';
export { KafkaBundleArchiveReader } from './replay/kafka-bundle-archive-reader.ts';
// Policy impact: what a candidate would change in recorded decisions.
export { decisionChange, type ChangeKind, type DecisionChange } from './impact/impact-change.ts';
