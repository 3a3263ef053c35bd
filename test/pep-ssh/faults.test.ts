// Faults at the SSH PEP: garbage, truncated and oversized packets end that connection and nothing
// else; a command with a NUL byte is refused; and with the PDP gone, every command and login
// fails closed without anything reaching the host.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ClientChannel } from 'ssh2';
import { eventually } from '../support/eventually.ts';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

describe('faults at the SSH PEP', () => {
  let stack: SshPepStack;
  let reader: string;

  before(async () => {
    stack = await startSshPepStack();
    reader = await stack.token('agent-reader', ['reader']);
  });
  after(() => stack?.close());

  /** A raw TCP client that sends `bytes` (after reading the PEP's identification) and reports when the PEP closed it. */
  const rawClient = async (bytes: Buffer, options: { endAfterSending?: boolean } = {}): Promise<{ banner: string; closed: Promise<void>; socket: Socket }> => {
    const socket = connect(stack.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const banner = await eventually('the PEP identifies itself', () => (received.includes('\r\n') ? received.split('\r\n')[0] : undefined));
    socket.write(bytes);
    if (options.endAfterSending) socket.end();
    return { banner, closed, socket };
  };

  const stillServes = async (): Promise<void> => {
    const result = await stack.ssh(reader, 'echo still-serving');
    assert.equal(result.stdout, 'still-serving\n', result.stderr);
    await eventually('no session left open at the PEP', () => stack.pep.health().sessions === 0);
  };

  it('ends a connection that sends garbage instead of SSH, and keeps serving others', async () => {
    const { banner, closed } = await rawClient(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.match(banner, /^SSH-2\.0-Portcullis/);
    await closed;
    await stillServes();
  });

  it('ends a connection whose packet is cut short', async () => {
    // A valid identification, then a packet announcing 1000 bytes that carries 10 before the client stops.
    const packet = Buffer.alloc(14);
    packet.writeUInt32BE(1000, 0);
    const { closed } = await rawClient(Buffer.concat([Buffer.from('SSH-2.0-truncating-client\r\n'), packet]), { endAfterSending: true });
    await closed;
    await stillServes();
  });

  it('ends a connection that announces an impossible packet length', async () => {
    const packet = Buffer.alloc(64, 0x41);
    packet.writeUInt32BE(0xffffffff, 0);
    const { closed } = await rawClient(Buffer.concat([Buffer.from('SSH-2.0-oversized-client\r\n'), packet]));
    await closed;
    await stillServes();
  });

  it('ends a connection that sends random bytes after a valid identification', async () => {
    const noise = Buffer.alloc(4096);
    for (let index = 0; index < noise.length; index++) noise[index] = (index * 7919 + 13) & 0xff;
    const { closed } = await rawClient(Buffer.concat([Buffer.from('SSH-2.0-noisy-client\r\n'), noise]));
    await closed;
    await stillServes();
  });

  it('refuses a command holding a NUL byte, which sshd would cut short', async () => {
    const client = await stack.client(reader);
    const result = await stack.exec(client, 'echo harmless\u0000; touch /tmp/never');
    assert.equal(result.code, 65);
    assert.match(result.stderr, /NUL byte/);
    assert.ok(!stack.sshd.commands().some((entry) => entry.command.startsWith('echo harmless')));
  });

  it('holds at most 10 session channels open on one connection, as sshd does, and takes more once one closes', async () => {
    const client = await stack.client(reader);
    const open = (command: string): Promise<ClientChannel> =>
      new Promise((resolve, reject) => client.exec(command, (error, channel) => (error ? reject(error) : resolve(channel))));
    const running = await Promise.all(Array.from({ length: 10 }, () => open('tail -f /etc/hostname')));
    for (const channel of running) channel.resume();
    await assert.rejects(open('echo the-eleventh'), /open failure|prohibited/i);
    const closed = new Promise<void>((resolve) => running[0]!.once('close', () => resolve()));
    running[0]!.close();
    await closed;
    const next = await eventually('a channel once one closed', async () => {
      try {
        return await stack.exec(client, 'echo room-again');
      } catch {
        return undefined;
      }
    });
    assert.equal(next.stdout, 'room-again\n');
    for (const channel of running.slice(1)) channel.close();
  });

  it('closes at once a connection beyond 10 not yet logged in from one address, while other addresses still log in', async () => {
    // Idle TCP connections that never log in: each holds a place until it logs in or closes.
    const idle: Socket[] = [];
    const identified = (socket: Socket): Promise<void> => new Promise((resolve) => socket.once('data', () => resolve()));
    try {
      for (let index = 0; index < 10; index += 1) {
        const socket = connect(stack.port, '127.0.0.1');
        socket.on('error', () => undefined);
        idle.push(socket);
        await identified(socket);
      }
      const eleventh = connect(stack.port, '127.0.0.1');
      eleventh.on('error', () => undefined);
      let received = 0;
      eleventh.on('data', (chunk: Buffer) => (received += chunk.length));
      await new Promise<void>((resolve) => eleventh.once('close', () => resolve()));
      assert.equal(received, 0, 'closed before the PEP said a word');
      // Another source address (all of 127/8 is this host) is not locked out by them.
      const other = await stack.client(reader, { localAddress: '127.0.0.2' });
      assert.equal((await stack.exec(other, 'echo from-elsewhere')).stdout, 'from-elsewhere\n');
      other.end();
    } finally {
      for (const socket of idle) socket.destroy();
    }
    // Their places are free again once they are gone.
    await eventually('a login from the first address works again', async () => (await stack.ssh(reader, 'echo back')).stdout === 'back\n');
  });

  it('fails closed when the PDP is gone: commands exit 75 and never reach the host; logins are refused', async () => {
    const client = await stack.client(reader);
    assert.equal((await stack.exec(client, 'echo before-the-outage')).stdout, 'before-the-outage\n');
    await stack.pdp.close();
    const result = await stack.exec(client, 'echo during-the-outage');
    assert.equal(result.code, 75);
    assert.match(result.stderr, /no policy decision could be had, so nothing was run/);
    assert.equal(result.stdout, '');
    assert.ok(!stack.sshd.commands().some((entry) => entry.command === 'echo during-the-outage'));
    const login = await stack.ssh(reader, 'echo login-during-the-outage');
    assert.equal(login.code, 255);
    assert.match(login.stderr, /Permission denied/);
    assert.ok(!stack.sshd.commands().some((entry) => entry.command === 'echo login-during-the-outage'));
  });
});
