import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createProcessLogger as sdkLogger } from '@portcullis/pep-core';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { createProcessLogger as pdpLogger } from '@portcullis/pdp';
import { eventually } from '../support/eventually.ts';

const folder = mkdtempSync(join(tmpdir(), 'portcullis-log-'));
after(() => rmSync(folder, { recursive: true, force: true }));

/** What a logger made with `env` wrote to a file (not a terminal) while `write` ran. */
function logged(create: typeof pdpLogger, env: NodeJS.ProcessEnv, write: (logger: ReturnType<typeof pdpLogger>) => void): string {
  const path = join(folder, `${Math.random().toString(36).slice(2)}.log`);
  const fd = openSync(path, 'w');
  try {
    write(create({ name: 'under-test', env, destination: { fd } }));
  } finally {
    closeSync(fd);
  }
  return readFileSync(path, 'utf8');
}

for (const [part, create] of [['the PDP', pdpLogger], ['the PEP SDK', sdkLogger]] as const) {
  describe(`${part}'s process log`, () => {
    it('writes one JSON object a line when it is not a terminal, with the service name and the fields apart', () => {
      const text = logged(create, {}, (logger) => logger.info({ port: 5432 }, 'listening on 127.0.0.1:5432'));
      const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.msg, 'listening on 127.0.0.1:5432');
      assert.equal(lines[0]!.name, 'under-test');
      assert.equal(lines[0]!.port, 5432);
      assert.equal(lines[0]!.level, 30);
    });

    it('replaces tokens, passwords and authorization headers wherever they are logged', () => {
      const text = logged(create, {}, (logger) =>
        logger.warn({ subject_token: 'eyJ-subject', request: { headers: { authorization: 'Bearer eyJ-pep', accept: '*/*' } }, upstream: { password: 'hunter2', user: 'app' } }, 'refused'),
      );
      for (const secret of ['eyJ-subject', 'eyJ-pep', 'hunter2']) assert.ok(!text.includes(secret), `${secret} is not in the log: ${text}`);
      const line = JSON.parse(text) as { subject_token: string; request: { headers: Record<string, string> }; upstream: Record<string, string> };
      assert.equal(line.subject_token, '[redacted]');
      assert.deepEqual(line.request.headers, { authorization: '[redacted]', accept: '*/*' });
      assert.deepEqual(line.upstream, { password: '[redacted]', user: 'app' });
    });

    it('writes readable lines when asked to (as on a terminal), still without the secrets', () => {
      const text = logged(create, { PORTCULLIS_LOG_FORMAT: 'pretty' }, (logger) => logger.info({ token: 'eyJ-secret' }, 'policy bundle active'));
      assert.throws(() => JSON.parse(text));
      assert.match(text, /INFO.*under-test.*policy bundle active/);
      assert.ok(!text.includes('eyJ-secret'));
    });

    it('refuses an unknown format or level, naming the variable', () => {
      assert.throws(() => create({ name: 'x', env: { PORTCULLIS_LOG_FORMAT: 'xml' } }), /PORTCULLIS_LOG_FORMAT: must be json or pretty, not "xml"/);
      assert.throws(() => create({ name: 'x', env: { PORTCULLIS_LOG_LEVEL: 'loud' } }), /PORTCULLIS_LOG_LEVEL: must be one of/);
    });
  });
}

describe('the PDP process logs JSON lines when its log is a pipe', () => {
  it('says where it listens as a JSON line with the address apart, and that it stops on SIGTERM', async () => {
    const stateDir = mkdtempSync(join(folder, 'state-'));
    const server = spawn(process.execPath, [join(REPOSITORY_ROOT, 'pdp/bin/portcullis.mjs'), 'serve'], {
      cwd: REPOSITORY_ROOT,
      env: { ...process.env, PORTCULLIS_STATE_DIR: stateDir, PORTCULLIS_PORT: '0', PORTCULLIS_LOG_FORMAT: '', PORTCULLIS_LOG_LEVEL: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    server.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    // Only the PDP's own lines: a tool it runs at start (the OPA build of the Rego folder) writes its own.
    const lines = (): Record<string, unknown>[] => log.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    try {
      const listening = await eventually('the PDP logs where it listens', () => lines().find((line) => String(line.msg).startsWith('listening on ')), { timeoutMs: 60_000, intervalMs: 100 });
      assert.equal(listening.name, 'portcullis-pdp');
      assert.match(String(listening.url), /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(String(listening.msg).split(' ')[2], listening.url);
      server.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.ok(lines().some((line) => line.msg === 'SIGTERM: draining and stopping' && line.signal === 'SIGTERM'), log);
    } finally {
      if (server.exitCode === null) {
        server.kill('SIGKILL');
        await exited;
      }
    }
  });
});
