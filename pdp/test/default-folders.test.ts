import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cacheDir, defaultStateDir } from '../src/config/default-folders.ts';
import { loadPdpConfig, STARTER_BUNDLE_PATH } from '../src/config/pdp-config.ts';
import { OPA_VERSION } from '../src/policy/opa-binary.ts';

describe('default folders do not depend on where the package is installed', () => {
  it('state goes to $XDG_STATE_HOME/portcullis, or ~/.local/state/portcullis without it', () => {
    assert.equal(defaultStateDir({ XDG_STATE_HOME: '/var/lib/agents' }), '/var/lib/agents/portcullis');
    assert.equal(defaultStateDir({}), join(homedir(), '.local/state/portcullis'));
    // The XDG specification: a relative value is invalid and ignored.
    assert.equal(defaultStateDir({ XDG_STATE_HOME: 'relative/state' }), join(homedir(), '.local/state/portcullis'));
    assert.equal(loadPdpConfig({ XDG_STATE_HOME: '/srv/x' }).stateDir, '/srv/x/portcullis');
    assert.equal(loadPdpConfig({ XDG_STATE_HOME: '/srv/x', PORTCULLIS_STATE_DIR: '/srv/y' }).stateDir, '/srv/y');
  });

  it('the cache is PORTCULLIS_CACHE_DIR, else $XDG_CACHE_HOME/portcullis, else ~/.cache/portcullis', () => {
    assert.equal(cacheDir({ PORTCULLIS_CACHE_DIR: '/opt/cache', XDG_CACHE_HOME: '/c' }), '/opt/cache');
    assert.equal(cacheDir({ XDG_CACHE_HOME: '/c' }), '/c/portcullis');
    assert.equal(cacheDir({}), join(homedir(), '.cache/portcullis'));
  });

  it('with no policy source set, the PDP serves the starter bundle shipped in @portcullis/policies', () => {
    assert.deepEqual(loadPdpConfig({}).policy.source, { kind: 'bundle-file', path: STARTER_BUNDLE_PATH });
    assert.match(STARTER_BUNDLE_PATH, /policies\/build\/bundle\.tar\.gz$/);
    assert.deepEqual(loadPdpConfig({ PORTCULLIS_POLICY_DIR: '/p' }).policy.source, { kind: 'rego-folder', folder: '/p' });
  });

  it('the PDP builds the opa release the component installer installs', () => {
    const script = readFileSync(new URL('../../scripts/components.sh', import.meta.url), 'utf8');
    assert.match(script, new RegExp(`OPA_VERSION="\\$\\{PORTCULLIS_OPA_VERSION:-${OPA_VERSION}\\}"`));
  });
});
