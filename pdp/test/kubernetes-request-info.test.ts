import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveKubernetesRequest, type KubernetesRequestInfo } from '../src/enrichment/kubernetes-request-info.ts';

const EMPTY: KubernetesRequestInfo = {
  is_resource_request: true,
  verb: '',
  api_prefix: '',
  api_group: '',
  api_version: '',
  namespace: '',
  resource: '',
  subresource: '',
  name: '',
  parts: [],
};

function expectInfo(actual: KubernetesRequestInfo, expected: Partial<KubernetesRequestInfo>): void {
  assert.deepEqual(actual, { ...EMPTY, ...expected });
}

const UNRESOLVABLE = EMPTY;

describe('resolveKubernetesRequest: core group', () => {
  it('named pod delete in a namespace', () => {
    expectInfo(resolveKubernetesRequest('DELETE', '/api/v1/namespaces/prod/pods/web-1'), {
      verb: 'delete', api_prefix: 'api', api_version: 'v1', namespace: 'prod', resource: 'pods', name: 'web-1',
      parts: ['pods', 'web-1'],
    });
  });

  it('GET of a named pod is get', () => {
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/namespaces/prod/pods/web-1'), {
      verb: 'get', api_prefix: 'api', api_version: 'v1', namespace: 'prod', resource: 'pods', name: 'web-1',
      parts: ['pods', 'web-1'],
    });
  });

  it('GET of a collection is list', () => {
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/namespaces/prod/pods'), {
      verb: 'list', api_prefix: 'api', api_version: 'v1', namespace: 'prod', resource: 'pods', parts: ['pods'],
    });
  });

  it('HEAD of a collection is list too', () => {
    assert.equal(resolveKubernetesRequest('HEAD', '/api/v1/pods').verb, 'list');
  });

  it('cluster-wide list across namespaces', () => {
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/pods'), {
      verb: 'list', api_prefix: 'api', api_version: 'v1', resource: 'pods', parts: ['pods'],
    });
  });

  it('cluster-scoped named resource', () => {
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/nodes/node-1'), {
      verb: 'get', api_prefix: 'api', api_version: 'v1', resource: 'nodes', name: 'node-1', parts: ['nodes', 'node-1'],
    });
  });

  it('POST creates in a collection', () => {
    expectInfo(resolveKubernetesRequest('POST', '/api/v1/namespaces/prod/configmaps'), {
      verb: 'create', api_prefix: 'api', api_version: 'v1', namespace: 'prod', resource: 'configmaps', parts: ['configmaps'],
    });
  });

  it('PUT is update, PATCH is patch', () => {
    assert.equal(resolveKubernetesRequest('PUT', '/api/v1/namespaces/prod/secrets/db').verb, 'update');
    assert.equal(resolveKubernetesRequest('PATCH', '/api/v1/namespaces/prod/secrets/db').verb, 'patch');
  });

  it('DELETE without a name is deletecollection', () => {
    expectInfo(resolveKubernetesRequest('DELETE', '/api/v1/namespaces/prod/pods'), {
      verb: 'deletecollection', api_prefix: 'api', api_version: 'v1', namespace: 'prod', resource: 'pods', parts: ['pods'],
    });
  });
});

describe('resolveKubernetesRequest: named groups', () => {
  it('deployment in apps/v1', () => {
    expectInfo(resolveKubernetesRequest('PATCH', '/apis/apps/v1/namespaces/prod/deployments/web'), {
      verb: 'patch', api_prefix: 'apis', api_group: 'apps', api_version: 'v1', namespace: 'prod', resource: 'deployments',
      name: 'web', parts: ['deployments', 'web'],
    });
  });

  it('scale subresource', () => {
    expectInfo(resolveKubernetesRequest('PUT', '/apis/apps/v1/namespaces/prod/deployments/web/scale'), {
      verb: 'update', api_prefix: 'apis', api_group: 'apps', api_version: 'v1', namespace: 'prod', resource: 'deployments',
      subresource: 'scale', name: 'web', parts: ['deployments', 'web', 'scale'],
    });
  });

  it('cluster-scoped group resource', () => {
    expectInfo(resolveKubernetesRequest('DELETE', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/admin'), {
      verb: 'delete', api_prefix: 'apis', api_group: 'rbac.authorization.k8s.io', api_version: 'v1',
      resource: 'clusterrolebindings', name: 'admin', parts: ['clusterrolebindings', 'admin'],
    });
  });
});

describe('resolveKubernetesRequest: subresources', () => {
  for (const subresource of ['exec', 'attach', 'portforward']) {
    it(`${subresource} over POST (SPDY) and GET (WebSocket)`, () => {
      const path = `/api/v1/namespaces/prod/pods/web-1/${subresource}`;
      const expected = {
        api_prefix: 'api', api_version: 'v1', namespace: 'prod', resource: 'pods', subresource, name: 'web-1',
        parts: ['pods', 'web-1', subresource],
      };
      expectInfo(resolveKubernetesRequest('POST', path, 'command=sh&stdin=true'), { ...expected, verb: 'create' });
      expectInfo(resolveKubernetesRequest('GET', path, { command: ['sh', '-c', 'id'] }), { ...expected, verb: 'get' });
    });
  }

  it('log subresource', () => {
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/namespaces/prod/pods/web-1/log', 'follow=true&container=app'), {
      verb: 'get', api_prefix: 'api', api_version: 'v1', namespace: 'prod', resource: 'pods', subresource: 'log',
      name: 'web-1', parts: ['pods', 'web-1', 'log'],
    });
  });

  it('status subresource of a pod', () => {
    assert.equal(resolveKubernetesRequest('PATCH', '/api/v1/namespaces/prod/pods/web-1/status').subresource, 'status');
  });

  it('parts past the subresource are kept but not interpreted', () => {
    const info = resolveKubernetesRequest('GET', '/api/v1/namespaces/prod/services/web:80/proxy/metrics/x');
    assert.equal(info.subresource, 'proxy');
    assert.deepEqual(info.parts, ['services', 'web:80', 'proxy', 'metrics', 'x']);
  });
});

describe('resolveKubernetesRequest: namespaces themselves', () => {
  it('DELETE of a namespace', () => {
    expectInfo(resolveKubernetesRequest('DELETE', '/api/v1/namespaces/prod'), {
      verb: 'delete', api_prefix: 'api', api_version: 'v1', namespace: 'prod', resource: 'namespaces', name: 'prod',
      parts: ['namespaces', 'prod'],
    });
  });

  it('list of namespaces', () => {
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/namespaces'), {
      verb: 'list', api_prefix: 'api', api_version: 'v1', resource: 'namespaces', parts: ['namespaces'],
    });
  });

  it('namespace finalize and status are subresources of the namespace', () => {
    for (const subresource of ['finalize', 'status']) {
      expectInfo(resolveKubernetesRequest('PUT', `/api/v1/namespaces/prod/${subresource}`), {
        verb: 'update', api_prefix: 'api', api_version: 'v1', namespace: 'prod', resource: 'namespaces', name: 'prod',
        subresource, parts: ['namespaces', 'prod', subresource],
      });
    }
  });

  it('DELETE of every namespace is deletecollection', () => {
    assert.equal(resolveKubernetesRequest('DELETE', '/api/v1/namespaces').verb, 'deletecollection');
  });
});

describe('resolveKubernetesRequest: watch and field selectors', () => {
  it('watch=true on a collection', () => {
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/namespaces/prod/pods', 'watch=true').verb, 'watch');
  });

  it('watch=1, watch= and watch=TRUE are watches; 0 and false (any case) are not', () => {
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods', 'watch=1').verb, 'watch');
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods', 'watch=').verb, 'watch');
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods', { watch: 'TRUE' }).verb, 'watch');
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods', 'watch=0').verb, 'list');
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods', 'watch=False').verb, 'list');
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods', { watch: ['false', 'true'] }).verb, 'list');
  });

  it('deprecated /watch/ path prefix', () => {
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/watch/namespaces/prod/pods'), {
      verb: 'watch', api_prefix: 'api', api_version: 'v1', namespace: 'prod', resource: 'pods', parts: ['pods'],
    });
    expectInfo(resolveKubernetesRequest('GET', '/apis/apps/v1/watch/deployments/web'), {
      verb: 'watch', api_prefix: 'apis', api_group: 'apps', api_version: 'v1', resource: 'deployments', name: 'web',
      parts: ['deployments', 'web'],
    });
  });

  it('deprecated /proxy/ prefix never has a subresource', () => {
    const info = resolveKubernetesRequest('GET', '/api/v1/proxy/namespaces/prod/pods/web-1/healthz');
    assert.equal(info.verb, 'proxy');
    assert.equal(info.name, 'web-1');
    assert.equal(info.subresource, '');
  });

  it('fieldSelector metadata.name narrows a list and a watch to one name', () => {
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/namespaces/prod/pods', 'fieldSelector=metadata.name%3Dweb-1&watch=true'), {
      verb: 'watch', api_prefix: 'api', api_version: 'v1', namespace: 'prod', resource: 'pods', name: 'web-1', parts: ['pods'],
    });
    const list = resolveKubernetesRequest('GET', '/api/v1/pods', { fieldSelector: 'status.phase=Running,metadata.name==web-1' });
    assert.equal(list.verb, 'list');
    assert.equal(list.name, 'web-1');
  });

  it('fieldSelector that does not pin a name leaves it empty', () => {
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods', 'fieldSelector=metadata.name!=web-1').name, '');
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods', 'fieldSelector=metadata.namespace=prod').name, '');
    // unescaped "=" in a value is a parse error: the apiserver drops the selector
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods', 'fieldSelector=metadata.name=a=b').name, '');
    // a name that cannot be a path segment is not taken
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods', { fieldSelector: 'metadata.name=..' }).name, '');
  });

  it('a parameter that fails ListOptions decoding drops the selector but keeps watch', () => {
    const info = resolveKubernetesRequest('GET', '/api/v1/pods', 'fieldSelector=metadata.name%3Dweb&limit=ten&watch=1');
    assert.equal(info.verb, 'watch');
    assert.equal(info.name, '');
  });

  it('fieldSelector does not name a delete: still deletecollection', () => {
    assert.equal(resolveKubernetesRequest('DELETE', '/api/v1/pods', 'fieldSelector=metadata.name%3Dweb').verb, 'deletecollection');
  });

  it('a query written into the path counts', () => {
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods?watch=true').verb, 'watch');
  });
});

describe('resolveKubernetesRequest: non-resource paths', () => {
  for (const path of ['/healthz', '/version', '/openapi/v2', '/', '', '/api', '/api/v1', '/apis', '/metrics', '/livez/etcd']) {
    it(`${JSON.stringify(path)} is non-resource`, () => {
      expectInfo(resolveKubernetesRequest('GET', path), {
        is_resource_request: false, verb: 'get',
      });
    });
  }

  it('group discovery keeps the prefix but is non-resource, verb = method', () => {
    expectInfo(resolveKubernetesRequest('POST', '/apis/apps/v1'), { is_resource_request: false, verb: 'post', api_prefix: 'apis' });
    expectInfo(resolveKubernetesRequest('GET', '/apis/apps'), { is_resource_request: false, verb: 'get' });
  });
});

describe('resolveKubernetesRequest: methods and odd paths', () => {
  it('an unknown method on a resource has no verb', () => {
    assert.equal(resolveKubernetesRequest('OPTIONS', '/api/v1/pods').verb, '');
    assert.equal(resolveKubernetesRequest('get', '/api/v1/pods').verb, '', 'Go compares methods case-sensitively');
  });

  it('trailing slashes are trimmed as the apiserver does', () => {
    assert.deepEqual(resolveKubernetesRequest('DELETE', '/api/v1/namespaces/prod/pods/web-1/'),
      resolveKubernetesRequest('DELETE', '/api/v1/namespaces/prod/pods/web-1'));
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods//').verb, 'list');
  });

  it('percent-encoded ordinary characters decode like the apiserver', () => {
    const info = resolveKubernetesRequest('GET', '/api/v1/namespaces/prod/%70ods/web%2D1');
    assert.equal(info.resource, 'pods');
    assert.equal(info.name, 'web-1');
  });

  it('empty interior segments are not collapsed into a different request', () => {
    // the apiserver reads namespace "" (every namespace) here; a cleaner would read namespace "pods"
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/namespaces//pods'), UNRESOLVABLE);
    expectInfo(resolveKubernetesRequest('DELETE', '/api//v1/pods/x'), UNRESOLVABLE);
    expectInfo(resolveKubernetesRequest('GET', '//api/v1/pods'), UNRESOLVABLE);
  });

  it('dot segments, raw or encoded, are never resolved', () => {
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/namespaces/dev/pods/../../kube-system/secrets'), UNRESOLVABLE);
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/namespaces/dev/%2e%2e/secrets'), UNRESOLVABLE);
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/./pods'), UNRESOLVABLE);
    expectInfo(resolveKubernetesRequest('GET', '/healthz/../api/v1/secrets'), UNRESOLVABLE);
  });

  it('encoded slashes, backslashes, fragments and bad escapes are never resolved', () => {
    expectInfo(resolveKubernetesRequest('DELETE', '/api/v1/namespaces/prod%2Fpods'), UNRESOLVABLE);
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/namespaces/dev/pods\\..\\secrets'), UNRESOLVABLE);
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/pods#x'), UNRESOLVABLE);
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/pods/%zz'), UNRESOLVABLE);
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/pods/%3Fwatch'), UNRESOLVABLE);
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/pods/a%00b'), UNRESOLVABLE);
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/pods/%ff'), UNRESOLVABLE);
    expectInfo(resolveKubernetesRequest('GET', 'api/v1/pods'), UNRESOLVABLE);
  });

  it('values of the wrong type never throw', () => {
    expectInfo(resolveKubernetesRequest(undefined as unknown as string, '/api/v1/pods'), UNRESOLVABLE);
    expectInfo(resolveKubernetesRequest('GET', 42 as unknown as string), UNRESOLVABLE);
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/pods', 7 as unknown as string), UNRESOLVABLE);
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods', { watch: 1 as unknown as string }).verb, 'list');
  });

  it('a special verb with nothing after it is rejected by the apiserver, so unresolvable', () => {
    expectInfo(resolveKubernetesRequest('GET', '/api/v1/watch'), UNRESOLVABLE);
  });

  it('query pairs with a semicolon or a bad escape are dropped, as Go does', () => {
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods', 'watch=true;x=1').verb, 'list');
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods', 'watch=%zz').verb, 'list');
    assert.equal(resolveKubernetesRequest('GET', '/api/v1/pods', 'x=1&&watch=yes').verb, 'watch');
  });
});
