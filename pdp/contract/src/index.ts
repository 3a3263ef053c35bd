/**
 * @portcullis/contract — the wire contract between the PDP, its PEPs and clients: each message
 * written once as a TypeBox schema, from which come its TypeScript type (same name), its runtime
 * validator and the OpenAPI document. A leaf: it imports nothing of Portcullis.
 */
export { contractValidator, type ContractReading, type ContractValidator } from './validation/contract-validator.ts';
export { firstFieldProblem, type FieldProblem } from './validation/field-problem.ts';

export {
  ActionV1,
  APPROVAL_ID_PATTERN,
  ConnectActionV1,
  DecisionRequestV1,
  HttpActionV1,
  CONNECT_CHANNELS,
  FILE_OPERATIONS,
  FileActionV1,
  FileAttributesV1,
  FileOpenV1,
  KubernetesActionV1,
  MAX_NAME,
  MAX_PATH,
  NETWORK_DIRECTIONS,
  NetworkActionV1,
  MAX_SQL_PARAMETERS,
  MAX_TEXT,
  MAX_MCP_TOOLS,
  MCP_METHODS,
  McpActionV1,
  McpToolAnnotationsV1,
  McpToolV1,
  ResourceV1,
  SessionV1,
  ShellActionV1,
  SqlActionV1,
  SqlParameterV1,
  StringMapV1,
} from './decisions/decision-request-v1.ts';
export { decisionRequestV1Validator, readDecisionRequestV1, type ReadDecisionRequestV1 } from './decisions/decision-request-reader.ts';
export {
  ApprovalV1,
  DecisionAnswerEssentialsV1,
  DecisionResponseV1,
  DecisionReuseV1,
  EffectV1,
  EnrichmentCursorV1,
  EnrichmentV1,
  ObligationsV1,
  PrincipalKindV1,
  PrincipalV1,
  ReasonV1,
  SyntaxErrorV1,
} from './decisions/decision-response-v1.ts';
export {
  ByteStreamMaskV1,
  JsonPathMaskV1,
  MASK_KINDS,
  maskKind,
  MaskTargetV1,
  SqlColumnMaskV1,
  type MaskKindV1,
  type MaskObligationV1,
  type MaskOfKind,
} from './decisions/mask-obligation-v1.ts';
export { ErrorV1 } from './decisions/error-v1.ts';
export { DataErrorV1, DataRequestV1, DataResponseV1 } from './decisions/data-api-v1.ts';
export { SqlOutputsRequestV1, SqlOutputsResponseV1 } from './decisions/sql-outputs-v1.ts';
export {
  decisionAnswerEssentialsV1Validator,
  decisionResponseV1Validator,
  decisionReuseV1Validator,
  maskTargetV1Validator,
  reasonV1Validator,
  sqlOutputsRequestV1Validator,
  syntaxErrorV1Validator,
} from './decisions/decision-validators.ts';

export {
  MAX_EVENTS_PER_POST,
  SessionEndEventV1,
  SessionEventBatchV1,
  SessionEventsAcceptedV1,
  SessionEventV1,
  SessionProtocolV1,
  SessionStartEventV1,
  SessionRecordingEventV1,
  SessionStatementEventV1,
  type SessionProtocol,
} from './sessions/session-event-v1.ts';
export {
  AsciicastHeaderV1,
  MAX_RECORDING_EVENT_DATA,
  MAX_RECORDING_EVENTS,
  RECORDING_FORMAT,
  RecordingChunkV1,
  RecordingEventV1,
  type RecordingEventCode,
} from './sessions/session-recording-v1.ts';
export { TerminalTextDecoder, terminalTextToBytes } from './sessions/terminal-bytes.ts';
export { readSessionEventsV1, sessionEventBatchV1Validator, sessionEventV1Validator } from './sessions/session-event-reader.ts';

export {
  ActionDisplayV1,
  ApprovalAnswerV1,
  ApprovalHistoryV1,
  ApprovalIdV1,
  ApprovalQueuePageV1,
  ApprovalRecordV1,
  ApprovalStateV1,
  ApprovalStatusV1,
  ApprovalVerdictKindV1,
  ApprovalVerdictV1,
  ApprovalVoteRequestV1,
  ApprovalVoteV1,
  type ApprovalState,
  type ApprovalVerdictKind,
} from './approvals/approval-v1.ts';
export {
  approvalAnswerV1Validator,
  approvalRecordV1Validator,
  approvalStateV1Validator,
  approvalVoteRequestV1Validator,
  consoleClientMessageV1Validator,
  consoleServerMessageV1Validator,
} from './approvals/approval-validators.ts';
export { CONSOLE_PROTOCOL_VERSION, CONSOLE_SUBPROTOCOL, ConsoleClientMessageV1, ConsoleServerMessageV1 } from './approvals/console-protocol-v1.ts';

export {
  ApiActivityRecordV1,
  AUDIT_RECORD_CLASSES,
  AuditCheckpointV1,
  AuditDigestsRecordV1,
  AuditDigestV1,
  AuditRecordV1,
  AuditStreamV1,
  BaseEventRecordV1,
  ChainLinkV1,
  DatastoreActivityRecordV1,
  EntityManagementRecordV1,
  OCSF_SCHEMA_VERSION,
  OcsfObservableV1,
  PortcullisFieldsV1,
  ProcessActivityRecordV1,
  UserAccessManagementRecordV1,
} from './audit/audit-record-v1.ts';
export { auditRecordV1Validator } from './audit/audit-record-validator.ts';
export { openApiDocument } from './openapi/openapi-document.ts';
