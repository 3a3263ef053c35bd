// Every request type ssh2's server-side SFTP parses (read from ssh2's own source, the oracle) is
// held from the channel's start and handled by the PEP's SFTP proxy: none falls through to
// ssh2's default answer, and none could reach the host undecided.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import type { SFTPWrapper } from 'ssh2';
import type { FileDecisions } from '../src/files/file-decisions.ts';
import { PendingSftpRequests, SFTP_REQUEST_EVENTS } from '../src/files/pending-sftp-requests.ts';
import { SftpProxy } from '../src/files/sftp-proxy.ts';
import type { UpstreamSftp } from '../src/files/upstream-sftp.ts';

/** The request names ssh2 dispatches on a server-side SFTP channel, from its SERVER_HANDLERS table. */
function ssh2ServerRequests(): string[] {
  const source = readFileSync(join(dirname(createRequire(import.meta.url).resolve('ssh2')), 'protocol', 'SFTP.js'), 'utf8');
  const table = source.slice(source.indexOf('const SERVER_HANDLERS = {'));
  const names = [...table.matchAll(/\[REQUEST\.([A-Z_]+)\]:/g)].map((match) => match[1]!);
  assert.ok(names.length > 10, 'found ssh2\'s server request table');
  // INIT is answered by ssh2 itself (the version exchange carries no file operation).
  return names.filter((name) => name !== 'INIT');
}

describe('SFTP request coverage', () => {
  it('holds every request type ssh2 parses from the moment the channel is accepted', () => {
    assert.deepEqual([...SFTP_REQUEST_EVENTS].sort(), ssh2ServerRequests().sort());
    const client = new EventEmitter();
    new PendingSftpRequests(client as unknown as SFTPWrapper);
    for (const name of ssh2ServerRequests()) assert.equal(client.listenerCount(name), 1, name);
  });

  it('gives every request type a handler in the proxy', () => {
    const client = Object.assign(new EventEmitter(), { end: () => undefined, status: () => undefined });
    const requests = new PendingSftpRequests(client as unknown as SFTPWrapper);
    const proxy = new SftpProxy(client as unknown as SFTPWrapper, { end: () => undefined } as unknown as UpstreamSftp, {} as FileDecisions, '/home/test', () => undefined);
    proxy.start(requests);
    for (const name of ssh2ServerRequests()) assert.equal(requests.listenerCount(name), 1, name);
  });
});
