// What suites outside this package drive the PEP with: the wire codec they speak raw Postgres
// through, its configuration, and the upstream connection parts they test against a real server.
// Not the PEP's API; nothing in the product imports it.
export { MessageBuilder } from './protocol/message-builder.ts';
export { MessageReader, type FramedMessage } from './protocol/message-reader.ts';
export { ConnectionClosedError, MessageStream } from './protocol/message-stream.ts';
export { decodeNoticeFields, decodeParameterStatus } from './protocol/backend-messages.ts';
export { CANCEL_REQUEST_CODE, PROTOCOL_3_0, SSL_REQUEST_CODE, encodeTerminate } from './protocol/frontend-messages.ts';
export { loadPepPostgresConfig } from './config/pep-postgres-config.ts';
export { CATALOG_APPLICATION_NAME, createCatalogPool } from './upstream/catalog-pool.ts';
export { UpstreamConnectError, UpstreamConnector, type UpstreamConfig } from './upstream/upstream-connector.ts';
export { UpstreamTls } from './upstream/upstream-tls.ts';
export type { UpstreamTlsSettings } from './upstream/upstream-tls-settings.ts';
export { openUpstreamSocket } from './upstream/upstream-socket.ts';
export { ScramSha256Client } from './upstream/scram-sha-256-client.ts';
export { certificateSignatureHash } from './upstream/certificate-signature-hash.ts';
export { sendUpstreamCancel } from './cancel/upstream-cancel.ts';
