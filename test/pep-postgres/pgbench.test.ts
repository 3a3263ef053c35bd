import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPepStack, UPSTREAM_USER, type PepStack } from './pep-stack.ts';
import { loginNameOf } from './raw-client.ts';

describe('pgbench through the Postgres PEP', () => {
  let stack: PepStack;
  let token: string;

  before(async () => {
    stack = await startPepStack();
    token = await stack.token('agent-bench', ['reader']);
    // The tables are set up directly on the server: initialisation is DDL, not what is measured.
    await pgbench(stack, ['-i', '-s', '1', '-q', '-h', '127.0.0.1', '-p', String(stack.pg.port), '-U', UPSTREAM_USER, 'postgres'], stack.upstreamPassword);
  });
  after(() => stack?.close());

  for (const mode of ['simple', 'prepared'] as const) {
    it(`runs the select-only workload (-S, -M ${mode}) with every transaction decided and none failed`, async () => {
      const output = await pgbench(
        stack,
        ['-n', '-S', '-M', mode, '-T', '2', '-c', '2', '-j', '1', '-h', '127.0.0.1', '-p', String(stack.port), '-U', loginNameOf(token), 'analytics'],
        token,
      );
      const processed = Number(/number of transactions actually processed: (\d+)/.exec(output)?.[1]);
      assert.ok(processed > 0, output);
      assert.match(output, /number of failed transactions: 0 /);
      assert.equal(await stack.upstreamBackendsSettle(0), 0, 'every upstream session closed at the end');
    });
  }
});

function pgbench(stack: PepStack, args: string[], password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(join(stack.pg.binDir, 'pgbench'), args, { env: { PATH: process.env.PATH, PGPASSWORD: password }, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`pgbench failed: ${stderr}`));
      else resolve(`${stdout}\n${stderr}`);
    });
  });
}
