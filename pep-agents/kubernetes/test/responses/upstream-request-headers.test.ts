// What the API server is asked for when a response may need masking: JSON, uncompressed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMaskStrategyRegistry } from '@portcullis/pep-core';
import { jsonOnlyAccept } from '../../src/responses/json-accept.ts';
import { maskingPlan } from '../../src/responses/masking-plan.ts';
import { upstreamRequestHeaders } from '../../src/responses/upstream-request-headers.ts';

const strategies = createMaskStrategyRegistry();
const masking = maskingPlan([{ kind: 'json-path', path: '$.data.*', strategy: 'redact' }], strategies);
const unmasked = maskingPlan([], strategies);
// What kubectl get sends for its tables, and client-go when it prefers protobuf.
const KUBECTL_TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const CLIENT_GO_PROTOBUF = 'application/vnd.kubernetes.protobuf, */*';

describe('Accept when masking', () => {
  it('keeps the JSON ranges with their table parameters', () => {
    assert.equal(jsonOnlyAccept(KUBECTL_TABLE), 'application/json;as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json');
  });

  it('drops protobuf, CBOR and YAML, keeps wildcards the API server answers with JSON', () => {
    assert.equal(jsonOnlyAccept(CLIENT_GO_PROTOBUF), '*/*');
    assert.equal(jsonOnlyAccept('application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io'), 'application/json');
    assert.equal(jsonOnlyAccept('application/cbor, application/yaml;q=0.9, Application/JSON;q=0.5'), 'Application/JSON;q=0.5');
    assert.equal(jsonOnlyAccept('application/vnd.kubernetes.protobuf;stream=watch'), 'application/json');
  });

  it('asks for JSON when the client named nothing', () => {
    assert.equal(jsonOnlyAccept(undefined), 'application/json');
    assert.equal(jsonOnlyAccept(''), 'application/json');
    assert.equal(jsonOnlyAccept(['application/vnd.kubernetes.protobuf', 'application/json']), 'application/json');
  });
});

describe('upstream request headers', () => {
  it('ask for JSON without compression when anything may be masked, whatever the header case', () => {
    const headers = upstreamRequestHeaders({ Accept: CLIENT_GO_PROTOBUF, 'Accept-Encoding': 'gzip', 'user-agent': 'kubectl' }, masking);
    assert.deepEqual(headers, { 'user-agent': 'kubectl', accept: '*/*', 'accept-encoding': 'identity' });
  });

  it('stay as they are when nothing is masked', () => {
    const given = { accept: CLIENT_GO_PROTOBUF, 'accept-encoding': 'gzip' };
    assert.equal(upstreamRequestHeaders(given, unmasked), given);
  });
});
