/** @portcullis/pep-core — what every enforcement agent shares. */
export type {
  AnyDecisionAnswer,
  ApprovalState,
  ApprovalStatusV1,
  ApprovalVerdictV1,
  ByteStreamMaskV1,
  DecisionAnswer,
  DecisionRequest,
  DecisionReuseV1,
  EnrichmentV1,
  JsonPathMaskV1,
  MaskKindV1,
  MaskOfKind,
  MaskObligationV1,
  MaskTargetV1,
  ReasonV1,
  ResourceV1,
  SessionV1,
  SqlParameterV1,
  SyntaxErrorV1,
} from './decision-contract.ts';
// The SQL analysis request of `POST /v1/sql/outputs`, for the Postgres PEP's client of it.
export type { SqlOutputsRequestV1 } from '@portcullis/contract';

export type { PdpCallOptions, PdpCallResult, PdpFailureCode, PdpTransport } from './pdp-transport.ts';
export { DEFAULT_PDP_DEADLINE_MS, HttpPdpTransport, type HttpPdpTransportConfig } from './http-pdp-transport.ts';
export { PdpDecisionClient, type DecideOptions, type DecisionClient } from './pdp-client.ts';
export { readDecisionAnswer } from './decision-answer-reader.ts';
// One reading of a JSON text: a member name twice in one object is refused by every PEP that parses bodies.
export { duplicateJsonKey } from './duplicate-json-keys.ts';
export { DecisionReuseCache, type DecisionReuseCacheOptions } from './decision-reuse-cache.ts';
export { failClosedAnswer, LOCAL_DECISION_PREFIX } from './fail-closed-answer.ts';

export { ApprovalWaiter, type ApprovalWaiterConfig, type ApprovalWaitOptions } from './approval-waiter.ts';
export { approvalNotice } from './approval-notice.ts';
export { ActionAuthorizer, type AuthorizeContext, type AuthorizeOptions, type PepAction } from './action-authorizer.ts';

// The command gate and what each PEP implements for it.
export type { CommandDescription, ProtocolAdapter } from './protocol-adapter.ts';
export type { GateRefusal } from './gate-refusal.ts';
export { CommandGate, type CommandGateOptions, type CommandOutcome, type GateDecideOptions, type GateRun, type GateVerdict } from './command-gate.ts';

// Process wiring: the PDP connection, the connection server, the end on a signal.
export { PdpConnection, type PdpConnectionHealth } from './pdp-connection.ts';
export { readableFile, readPdpConnectionConfig, type PdpConnectionConfig } from './pdp-connection-config.ts';
export { ConnectionServer, type ConnectionServerOptions, type ServedSession } from './connection-server.ts';
export { listenOn } from './listen-on.ts';
export { stopOnSignals } from './stop-on-signals.ts';

export type { SessionEndEventV1, SessionEventV1, SessionProtocol, SessionRecordingEventV1, SessionStartEventV1, SessionStatementEventV1 } from '@portcullis/contract';
export type { SessionEventSink, SessionSinkStats } from './session-event-sink.ts';
export { SessionRecorder, type SessionRecorderOptions, type SessionTotals, type StatementRecord } from './session-recorder.ts';
export { PdpSessionEventSink, type PdpSessionEventSinkConfig } from './pdp-session-event-sink.ts';
export { MemorySessionEventSink } from './memory-session-event-sink.ts';
// Interactive sessions recorded as asciicast v2, in chunks on the session event path.
export { TerminalRecorder, type TerminalRecorderOptions, type TerminalRecordingTotals } from './recording/terminal-recorder.ts';
export { TerminalTextDecoder, terminalTextToBytes } from '@portcullis/contract';

export { refusalFor, rerunHint, type Refusal, type RefusalKind } from './fail-closed.ts';
export { clientSafeText } from './refusal-text.ts';

export type { MaskStrategy, MaskValueType } from './masking/mask-strategy.ts';
export { createMaskStrategyRegistry, MASK_STRATEGY_NAMES, MaskStrategyRegistry } from './masking/mask-strategy-registry.ts';
export { RedactStrategy } from './masking/redact-strategy.ts';
export { PartialStrategy } from './masking/partial-strategy.ts';
export { HashStrategy, HASH_PREFIX } from './masking/hash-strategy.ts';
export { NullStrategy } from './masking/null-strategy.ts';
export { REDACTED_TEXT, typedPlaceholder } from './masking/typed-placeholder.ts';
export { maskHashKeyFromEnv, parseMaskHashKey } from './masking/mask-hash-key.ts';
export type { DetectedEntity, DetectedSpan, ValueDetector } from './masking/value-detector.ts';
export { defaultValueDetectors, entityPlaceholder, ValueScrubber, type SpanReplacement } from './masking/value-scrubber.ts';
export { EmailAddressDetector } from './masking/email-address-detector.ts';
export { PhoneNumberDetector } from './masking/phone-number-detector.ts';
export { UsSsnDetector } from './masking/us-ssn-detector.ts';
export { CreditCardDetector, luhnValid } from './masking/credit-card-detector.ts';
export { IbanDetector, ibanValid } from './masking/iban-detector.ts';
export { ByteStreamMasker, byteStreamMasksSupported } from './masking/byte-stream-masker.ts';
export { JsonPathMasker, jsonPathMasksSupported } from './masking/json-path-masker.ts';
export { parseJsonPath, type JsonPathSegment } from './masking/json-path.ts';
export { splitStructuredMasks, type StructuredMasks } from './masking/structured-masks.ts';

// Every PEP reads its PORTCULLIS_* settings the way the PDP does.
export { boolean, ConfigError, configFail, deepFreeze, envReader, integer, oneOf, optional, type EnvRead } from './env-values.ts';
export { secretReader, type SecretSource } from './secret-source.ts';
// The process log: JSON lines, readable on a terminal, secrets redacted by path.
export { createProcessLogger, logFunction, REDACTED_LOG_PATHS, type LogFunction, type ProcessLoggerOptions } from './process-logger.ts';
export { staleDecisionReason, type DecisionValidityContext, type StaleDecisionReason } from './decision-validity.ts';
