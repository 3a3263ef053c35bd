/** Internals the cross-package suites exercise directly (request-target rules, Status shapes, upgrade framing). */
export { readRequestTarget, pathProblem } from './request/request-target.ts';
export { kubeStatus, type KubeStatus } from './status/kube-status.ts';
export { DiscoveryCache } from './discovery/discovery-cache.ts';
export { isDiscoveryPath } from './discovery/discovery-paths.ts';
// SPDY framing, for the test kubelet that stands in behind the API server.
export { encodeSpdyFrame, readSynStream, SPDY_CONTROL, SPDY_FLAG_FIN, SpdyFrameReader, type SpdyFrame } from './upgrades/spdy-frames.ts';
export { parseHeaderBlock, writeHeaderBlock } from './upgrades/spdy-header-block.ts';
export { SpdyHeaderDeflater, SpdyHeaderInflater } from './upgrades/spdy-header-zlib.ts';
