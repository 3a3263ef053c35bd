// Command options whose values begin with a dash (base64url thumbprints, key ids and tokens do,
// one time in 64) are read as values; a forgotten value is still refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from '../src/cli/command-args.ts';

const options = { 'key-thumbprint': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

describe('command arguments', () => {
  it('takes a value that begins with a dash as the value of the option before it', () => {
    const { values } = parseArgs({ args: ['--key-thumbprint', '-Xy3_thumb', '--json'], options, strict: true });
    assert.equal(values['key-thumbprint'], '-Xy3_thumb');
    assert.equal(values.json, true);
  });

  it('reads --opt=value and ordinary values as node does', () => {
    assert.equal(parseArgs({ args: ['--key-thumbprint=-abc'], options, strict: true }).values['key-thumbprint'], '-abc');
    assert.equal(parseArgs({ args: ['--key-thumbprint', 'abc'], options, strict: true }).values['key-thumbprint'], 'abc');
  });

  it('still refuses an option whose value was forgotten before another option', () => {
    assert.throws(() => parseArgs({ args: ['--key-thumbprint', '--json'], options, strict: true }), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
    assert.throws(() => parseArgs({ args: ['--key-thumbprint', '-h'], options, strict: true }), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
  });

  it('leaves everything after -- as positionals', () => {
    const { positionals } = parseArgs({ args: ['--', '--key-thumbprint', '-x'], options, strict: true, allowPositionals: true });
    assert.deepEqual(positionals, ['--key-thumbprint', '-x']);
  });
});
