// The SSLRequest exchange of the PEP's upstream connections against fake servers that answer
// what a real one never would: bytes stuffed after 'S', 'N', an error, or a bare CancelRequest
// over TLS. The real PostgreSQL paths are in upstream-tls.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { sendUpstreamCancel } from '@portcullis/pep-postgres/testing';
import { CANCEL_REQUEST_CODE, PROTOCOL_3_0, SSL_REQUEST_CODE } from '@portcullis/pep-postgres/testing';
import { UpstreamConnectError, UpstreamConnector } from '@portcullis/pep-postgres/testing';
import { openUpstreamSocket } from '@portcullis/pep-postgres/testing';
import { UpstreamTls } from '@portcullis/pep-postgres/testing';
import type { UpstreamTlsSettings } from '@portcullis/pep-postgres/testing';
import { createTestCa, issueCertificate, selfSignedCertificate, type CertificateFiles } from '../support/test-certificates.ts';

const PASSWORD = 'fake-upstream-secret-pw';
const REQUIRE: UpstreamTlsSettings = { mode: 'require', rootCert: undefined, clientCert: undefined };
const DISABLE: UpstreamTlsSettings = { mode: 'disable', rootCert: undefined, clientCert: undefined };

/** A server that answers the first 8 bytes with `answer` and records everything it receives. */
interface FakeUpstream {
  readonly port: number;
  /** Every byte of the first connection, once it has closed. */
  received(): Promise<Buffer>;
  close(): Promise<void>;
}

async function fakeUpstream(onConnection: (socket: Socket, firstPacket: Buffer) => void): Promise<FakeUpstream> {
  let resolveReceived: (bytes: Buffer) => void = () => undefined;
  const received = new Promise<Buffer>((resolve) => (resolveReceived = resolve));
  const server: Server = createServer((socket) => {
    const chunks: Buffer[] = [];
    let answered = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const bytes = Buffer.concat(chunks);
      if (!answered && bytes.length >= 8) {
        answered = true;
        onConnection(socket, bytes);
      }
    });
    socket.on('close', () => resolveReceived(Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    received: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function connector(port: number, tls: UpstreamTlsSettings): UpstreamConnector {
  return new UpstreamConnector({
    host: '127.0.0.1',
    port,
    database: 'postgres',
    user: 'pep',
    password: () => PASSWORD,
    connectTimeoutMs: 5000,
    maxMessageBytes: 1024 * 1024,
    tls,
  });
}

/** Answers 'S' and serves TLS with `certificate` on the same socket. */
function serveTls(socket: Socket, certificate: CertificateFiles): TLSSocket {
  socket.removeAllListeners('data');
  socket.write('S');
  const secure = new TLSSocket(socket, { isServer: true, cert: readFileSync(certificate.certFile), key: readFileSync(certificate.keyFile) });
  secure.on('error', () => undefined);
  return secure;
}

function isSslRequest(bytes: Buffer): boolean {
  return bytes.length === 8 && bytes.readInt32BE(0) === 8 && bytes.readInt32BE(4) === SSL_REQUEST_CODE;
}

// Bounded: a fake server that never answers must fail the test, not hang the run.
describe('the PEP asking its upstream server for TLS', { timeout: 60_000 }, () => {
  let dir: string;
  let serverCert: CertificateFiles;
  let ca: CertificateFiles;
  let byAddress: CertificateFiles;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-fake-'));
    serverCert = selfSignedCertificate(dir, 'fake-db', { dnsNames: ['localhost'] });
    ca = createTestCa(dir, 'fake-ca');
    byAddress = issueCertificate(ca, dir, 'fake-db-by-address', { ipAddresses: ['127.0.0.1'] });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses bytes stuffed after the server's 'S' (CVE-2021-23214) and sends nothing more", async () => {
    const fake = await fakeUpstream((socket) => socket.write(Buffer.concat([Buffer.from('S'), Buffer.from('R\0\0\0\x08\0\0\0\0', 'latin1')])));
    try {
      await assert.rejects(connector(fake.port, REQUIRE).connect({}), (error: UpstreamConnectError) => {
        assert.ok(error instanceof UpstreamConnectError);
        assert.equal(error.sqlState, '08006');
        assert.match(error.message, /unexpected data before the TLS handshake/);
        assert.match(error.reason, /9 byte\(s\) arrived with the 'S'/);
        return true;
      });
      assert.ok(isSslRequest(await fake.received()), 'only the SSLRequest: no handshake, no start-up packet');
    } finally {
      await fake.close();
    }
  });

  it("fails closed on 'N' when TLS is required: no start-up packet (user name, database) in the clear", async () => {
    const fake = await fakeUpstream((socket) => socket.write('N'));
    try {
      await assert.rejects(connector(fake.port, REQUIRE).connect({}), (error: UpstreamConnectError) => {
        assert.equal(error.sqlState, '08006');
        assert.match(error.message, /the database does not accept TLS/);
        assert.doesNotMatch(`${error.message} ${error.reason}`, new RegExp(PASSWORD));
        return true;
      });
      assert.ok(isSslRequest(await fake.received()));
    } finally {
      await fake.close();
    }
  });

  it('fails on an error or any other byte in answer to SSLRequest, without showing the server text to the client', async () => {
    const errorResponse = Buffer.from('E\0\0\0\x2fSFATAL\0C53300\0Msorry, too many clients already\0\0', 'latin1');
    errorResponse.writeInt32BE(errorResponse.length - 1, 1);
    for (const [answer, message, reason] of [
      [errorResponse, /the database refused the TLS request/, /too many clients/],
      [Buffer.from('X'), /unexpected byte/, /0x58/],
    ] as const) {
      const fake = await fakeUpstream((socket) => socket.end(answer));
      try {
        await assert.rejects(connector(fake.port, REQUIRE).connect({}), (error: UpstreamConnectError) => {
          assert.match(error.message, message);
          assert.match(error.reason, reason);
          assert.doesNotMatch(error.message, /too many clients/);
          return true;
        });
      } finally {
        await fake.close();
      }
    }
  });

  it('sends no SSLRequest with sslmode disable: the start-up packet comes first, as before', async () => {
    const fake = await fakeUpstream((socket) => socket.end());
    try {
      await assert.rejects(connector(fake.port, DISABLE).connect({}), UpstreamConnectError);
      const received = await fake.received();
      assert.equal(received.readInt32BE(4), PROTOCOL_3_0);
    } finally {
      await fake.close();
    }
  });

  it('sends the CancelRequest over TLS when the sessions use TLS', async () => {
    let cancelRequest: Buffer | undefined;
    const fake = await fakeUpstream((socket, first) => {
      assert.ok(isSslRequest(first));
      const secure = serveTls(socket, serverCert);
      const chunks: Buffer[] = [];
      secure.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        const bytes = Buffer.concat(chunks);
        if (bytes.length >= 16) {
          cancelRequest = bytes;
          secure.end();
        }
      });
    });
    try {
      const secretKey = Buffer.from([1, 2, 3, 4]);
      await sendUpstreamCancel({ host: '127.0.0.1', port: fake.port, tls: new UpstreamTls(REQUIRE) }, { processId: 4242, secretKey });
      assert.ok(cancelRequest, 'the fake server read a CancelRequest inside TLS');
      assert.equal(cancelRequest.readInt32BE(0), 16);
      assert.equal(cancelRequest.readInt32BE(4), CANCEL_REQUEST_CODE);
      assert.equal(cancelRequest.readInt32BE(8), 4242);
      assert.deepEqual(cancelRequest.subarray(12), secretKey);
    } finally {
      await fake.close();
    }
  });

  it("does not send the cancel key in the clear when the server answers 'N'", async () => {
    const fake = await fakeUpstream((socket) => socket.write('N'));
    try {
      await sendUpstreamCancel({ host: '127.0.0.1', port: fake.port, tls: new UpstreamTls(REQUIRE) }, { processId: 1, secretKey: Buffer.alloc(4) });
      assert.ok(isSslRequest(await fake.received()));
    } finally {
      await fake.close();
    }
  });

  it('verify-full checks an IP address against the certificate\'s IP entries (no SNI for an address)', async () => {
    let reportServerName: (name: string | false | null) => void = () => undefined;
    const serverName = new Promise<string | false | null>((resolve) => (reportServerName = resolve));
    const fake = await fakeUpstream((socket) => {
      const secure = serveTls(socket, byAddress);
      secure.once('secure', () => reportServerName(secure.servername));
    });
    try {
      const tls = new UpstreamTls({ mode: 'verify-full', rootCert: { file: ca.certFile }, clientCert: undefined });
      const socket = await openUpstreamSocket({ host: '127.0.0.1', port: fake.port, tls }, 5000);
      assert.ok(socket instanceof TLSSocket && socket.authorized);
      assert.equal(await serverName, false, 'no SNI');
      socket.destroy();
    } finally {
      await fake.close();
    }
  });
});
