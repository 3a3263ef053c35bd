// The env allow-list: only locale and terminal names can be allowed at all, and their values are
// held to what such names hold, so nothing a program loads or runs can be set through `env`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPepSshConfig } from '../src/config/pep-ssh-config.ts';
import { envRefusal } from '../src/channels/env-allow-list.ts';

const BASE = {
  PORTCULLIS_PEP_STATE_DIR: '/tmp/portcullis-ssh-state',
  PORTCULLIS_PEP_SSH_UPSTREAM_USER: 'deploy',
  PORTCULLIS_PEP_SSH_UPSTREAM_KEY: 'not-read-at-config-time',
  PORTCULLIS_PEP_SSH_UPSTREAM_KNOWN_HOSTS: '/tmp/known_hosts',
  PORTCULLIS_PEP_SSH_UPSTREAM_HOST_KEY_CHECK: 'accept-new',
  PORTCULLIS_PEP_TOKEN: 'pep-token',
  PORTCULLIS_PEP_RESOURCE_NAME: 'web-1',
};

describe('the env allow-list', () => {
  it('refuses at start an allow-list naming a variable that changes what runs', () => {
    for (const name of ['BASH_ENV', 'LD_PRELOAD', 'LD_*', 'PATH', 'ENV', 'IFS', 'PS4', 'PYTHONPATH', 'NODE_OPTIONS', 'GIT_SSH_COMMAND', '*', 'L*', 'LC_ALL=x']) {
      assert.throws(() => loadPepSshConfig({ ...BASE, PORTCULLIS_PEP_SSH_ENV_ALLOW: `LANG,${name}` }), /PORTCULLIS_PEP_SSH_ENV_ALLOW: .* cannot be allowed/, name);
    }
    assert.deepEqual(loadPepSshConfig({ ...BASE, PORTCULLIS_PEP_SSH_ENV_ALLOW: 'LANG, LC_*,TERM,COLORTERM,LANGUAGE' }).envAllowList, ['LANG', 'LC_*', 'TERM', 'COLORTERM', 'LANGUAGE']);
  });

  it('passes listed names with locale-like values and refuses the rest', () => {
    const allow = ['LANG', 'LC_*', 'TERM'];
    assert.equal(envRefusal(allow, 'LANG', 'C.UTF-8'), undefined);
    assert.equal(envRefusal(allow, 'LC_TIME', 'de_DE.UTF-8@euro'), undefined);
    assert.equal(envRefusal(allow, 'TERM', 'xterm-256color'), undefined);
    assert.match(envRefusal(allow, 'LANGUAGE', 'de')!, /not on the environment allow-list/);
    assert.match(envRefusal(allow, 'BASH_ENV', '/tmp/x')!, /not on the environment allow-list/);
    // A prefix pattern never widens past the catalogue: LC_ followed by anything odd is not a locale name.
    assert.match(envRefusal(allow, 'LC_ALL;x', 'C')!, /not on the environment allow-list/);
    for (const value of ['../../tmp/evil', '/usr/lib/locale', 'C.UTF-8\n', 'x'.repeat(129), '$(id)']) {
      assert.match(envRefusal(allow, 'LC_ALL', value)!, /holds characters/, value);
    }
  });

  it('passes only locales whose bytes the shell reads as the policy parser does: C, POSIX or UTF-8', () => {
    const allow = ['LANG', 'LC_*'];
    for (const value of ['', 'C', 'POSIX', 'C.UTF-8', 'C.utf8', 'en_US.UTF-8', 'de_DE.utf8@euro', 'ast_ES.UTF-8']) {
      assert.equal(envRefusal(allow, 'LC_ALL', value), undefined, value);
    }
    // Multibyte sets whose trail bytes can be \, ; or a quote, and bare names that default to one.
    for (const value of ['zh_TW.BIG5', 'zh_HK.BIG5-HKSCS', 'zh_CN.GBK', 'zh_CN.GB18030', 'ja_JP.SJIS', 'ja_JP.Shift_JIS', 'zh_TW', 'ko_KR.JOHAB', 'en_US', 'en_US.ISO-8859-1']) {
      assert.match(envRefusal(allow, 'LC_CTYPE', value)!, /must be C, POSIX or a UTF-8 locale/, value);
      assert.match(envRefusal(allow, 'LANG', value)!, /must be C, POSIX or a UTF-8 locale/, value);
    }
  });
});
