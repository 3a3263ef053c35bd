import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionMessageMasker } from '../src/masking/session-message-masker.ts';
import { reduceErrorOrNotice } from '../src/masking/server-text-reducer.ts';
import { decodeNoticeFields, decodeParameterStatus, encodeParameterStatus } from '../src/protocol/backend-messages.ts';
import { MessageBuilder } from '../src/protocol/message-builder.ts';

const notification = (pid: number, channel: string, payload: string): Buffer => new MessageBuilder().int32(pid).cstring(channel).cstring(payload).build('A');
const errorOrNotice = (type: 'E' | 'N', fields: Record<string, string>): Buffer => {
  const builder = new MessageBuilder();
  for (const [code, value] of Object.entries(fields)) builder.byte(code.charCodeAt(0)).cstring(value);
  return builder.byte(0).build(type);
};
const body = (message: Buffer): Buffer => message.subarray(5);

function masked(): SessionMessageMasker {
  const masker = new SessionMessageMasker();
  masker.decisionMade(false);
  return masker;
}

describe('messages no statement owns, for a principal whose results are masked', () => {
  it('is masked until a decision says the principal reads in clear, and for good once one does not', () => {
    const masker = new SessionMessageMasker();
    assert.equal(masker.masked, true, 'before any decision: masked (fail closed)');
    masker.decisionMade(true);
    assert.equal(masker.masked, false);
    masker.decisionMade(false);
    masker.decisionMade(true);
    assert.equal(masker.masked, true);
  });

  it('replaces a notification payload, keeps the channel and the sender; an empty payload stays empty', () => {
    const out = masked().onNotification(notification(4242, 'orders_changed', '518204937 seed.alice@example.org'));
    assert.equal(out[0], 0x41);
    assert.equal(out.readInt32BE(5), 4242);
    assert.equal(out.subarray(9).toString('utf8'), 'orders_changed\0****\0');
    assert.equal(masked().onNotification(notification(1, 'wake', '')).subarray(9).toString('utf8'), 'wake\0\0');
    const clear = new SessionMessageMasker();
    clear.decisionMade(true);
    const original = notification(4242, 'c', 'payload');
    assert.equal(clear.onNotification(original), original);
  });

  it('passes ParameterStatus values of closed sets and withholds every other one', () => {
    const masker = masked();
    for (const [name, value] of [['client_encoding', 'UTF8'], ['DateStyle', 'ISO, MDY'], ['IntervalStyle', 'iso_8601'], ['TimeZone', 'Europe/Berlin'], ['TimeZone', 'UTC'], ['standard_conforming_strings', 'on'], ['is_superuser', 'off']] as const) {
      const message = encodeParameterStatus(name, value);
      assert.equal(masker.onParameterStatus(message), message, `${name}=${value}`);
    }
    for (const [name, value] of [['application_name', '518204937'], ['application_name', 'psql'], ['TimeZone', '<518204937>5'], ['TimeZone', 'Etc/GMT+5'], ['scram_iterations', '518204937'], ['session_authorization', 'someone'], ['DateStyle', 'ISO, 518204937'], ['standard_conforming_strings', 'maybe'], ['search_path', '"$user", public'], ['unknown_setting', 'x']] as const) {
      assert.equal(masker.onParameterStatus(encodeParameterStatus(name, value)), undefined, `${name}=${value}`);
    }
    const clear = new SessionMessageMasker();
    clear.decisionMade(true);
    assert.deepEqual(decodeParameterStatus(body(clear.onParameterStatus(encodeParameterStatus('application_name', 'x'))!)), { name: 'application_name', value: 'x' });
  });

  it('reduces an error between statements to SQLSTATE, severity and a fixed text', () => {
    const error = errorOrNotice('E', { S: 'FATAL', V: 'FATAL', C: '57P01', M: 'terminating connection because of 518204937', D: '518204937', W: 'x', F: 'postgres.c', L: '1', R: 'r' });
    const out = masked().onErrorOrNotice(error);
    assert.equal(out[0], 0x45);
    const fields = decodeNoticeFields(body(out));
    assert.deepEqual(Object.fromEntries([...fields].filter(([code]) => code !== 'H')), { S: 'FATAL', V: 'FATAL', C: '57P01', M: 'admin shutdown' });
    assert.match(fields.get('H') ?? '', /withheld/);
  });

  it('keeps a server message that has no variable part, compared whole, without the other fields', () => {
    const error = errorOrNotice('E', { S: 'FATAL', V: 'FATAL', C: '57P01', M: 'terminating connection due to administrator command', D: '518204937' });
    assert.deepEqual(Object.fromEntries(decodeNoticeFields(body(masked().onErrorOrNotice(error)))), { S: 'FATAL', V: 'FATAL', C: '57P01', M: 'terminating connection due to administrator command' });
    const almost = errorOrNotice('E', { S: 'ERROR', V: 'ERROR', C: '22012', M: 'division by zero 518204937' });
    assert.equal(decodeNoticeFields(body(masked().onErrorOrNotice(almost))).get('M'), 'division by zero');
  });
});

describe('the server text reducer', () => {
  const reduced = (type: 'E' | 'N', fields: Record<string, string>) => decodeNoticeFields(reduceErrorOrNotice(type, body(errorOrNotice(type, fields))));

  it('keeps a SQLSTATE PostgreSQL knows, maps an unknown one to its class, and an unknown class to P0001', () => {
    assert.equal(reduced('E', { S: 'ERROR', C: '22P02', M: 'x' }).get('C'), '22P02');
    assert.equal(reduced('E', { S: 'ERROR', C: '22Z99', M: 'x' }).get('C'), '22000');
    assert.equal(reduced('E', { S: 'ERROR', C: '51820', M: 'x' }).get('C'), 'P0001');
    assert.equal(reduced('E', { S: 'ERROR', C: 'ab', M: 'x' }).get('C'), 'P0001');
    assert.equal(reduced('N', { S: 'NOTICE', C: 'QQ123', M: 'x' }).get('C'), '00000');
  });

  it('keeps a digit position, drops a position that is not one', () => {
    assert.equal(reduced('E', { S: 'ERROR', C: '42703', M: 'x', P: '8' }).get('P'), '8');
    assert.equal(reduced('E', { S: 'ERROR', C: '42703', M: 'x', P: '518-20-4937' }).get('P'), undefined);
  });

  it('keeps a localised severity word, never one carrying digits or a value', () => {
    assert.equal(reduced('E', { S: 'FEHLER', V: 'ERROR', C: '42703', M: 'x' }).get('S'), 'FEHLER');
    assert.equal(reduced('E', { S: '518204937', V: 'ERROR', C: '42703', M: 'x' }).get('S'), 'ERROR');
    assert.equal(reduced('E', { S: 'ERROR', V: 'seed.alice@example.org', C: '42703', M: 'x' }).get('V'), 'ERROR');
  });

  it('copes with a body that is no field list', () => {
    const fields = decodeNoticeFields(reduceErrorOrNotice('E', Buffer.from('Cunterminated')));
    assert.equal(fields.get('C'), 'P0001');
    assert.equal(fields.get('V'), 'ERROR');
  });

  it('never lets a notice claim to be an error, nor an error a notice', () => {
    assert.equal(reduced('N', { S: 'ERROR', V: 'ERROR', C: '00000', M: 'x' }).get('V'), 'NOTICE');
    assert.equal(reduced('E', { S: 'NOTICE', V: 'NOTICE', C: '22012', M: 'x' }).get('V'), 'ERROR');
  });
});
