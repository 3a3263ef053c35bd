// The PEP's host key generator writes files both the SSH library and OpenSSH read back, including
// the keys whose public half begins with a zero byte (the library's own generator mangles those).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { generateOpenSshEd25519KeyPair } from '../src/host-key/openssh-ed25519-key.ts';

const publicKeyBytes = (line: string): Buffer => Buffer.from(line.split(' ')[1]!, 'base64').subarray(-32);

describe('OpenSSH Ed25519 key files', () => {
  it('parse in the SSH library to the same public key, over many keys', () => {
    for (let index = 0; index < 1000; index += 1) {
      const pair = generateOpenSshEd25519KeyPair();
      const parsed = ssh2.utils.parseKey(pair.private);
      assert.ok(!(parsed instanceof Error), `key ${index}: ${parsed instanceof Error ? parsed.message : ''}`);
      const key = Array.isArray(parsed) ? parsed[0]! : parsed;
      assert.equal(`${key.type} ${key.getPublicSSH().toString('base64')}`, pair.public);
    }
  });

  it('are read by ssh-keygen, a public key with a leading zero byte included', () => {
    let pair = generateOpenSshEd25519KeyPair('host');
    while (publicKeyBytes(pair.public)[0] !== 0) pair = generateOpenSshEd25519KeyPair('host');
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-openssh-key-'));
    try {
      const file = join(dir, 'key');
      writeFileSync(file, pair.private, { mode: 0o600 });
      const derived = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
      assert.equal(derived, pair.public);
      assert.ok(!(ssh2.utils.parseKey(pair.private) instanceof Error));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
