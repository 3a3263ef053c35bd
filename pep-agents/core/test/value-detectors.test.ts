import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CreditCardDetector,
  EmailAddressDetector,
  IbanDetector,
  ibanValid,
  luhnValid,
  PhoneNumberDetector,
  UsSsnDetector,
  ValueScrubber,
  type ValueDetector,
} from '../src/index.ts';

/** The substrings a detector flags in `text`. */
const found = (detector: ValueDetector, text: string) => detector.find(text).map((span) => text.slice(span.start, span.end));

function examples(detector: ValueDetector, positive: Array<[string, string]>, negative: string[]): void {
  for (const [text, expected] of positive) {
    it(`flags ${JSON.stringify(expected)} in ${JSON.stringify(text)}`, () => assert.deepEqual(found(detector, text), [expected]));
  }
  for (const text of negative) {
    it(`flags nothing in ${JSON.stringify(text)}`, () => assert.deepEqual(found(detector, text), []));
  }
}

describe('EMAIL_ADDRESS', () => {
  examples(
    new EmailAddressDetector(),
    [
      ['jane.doe@example.com', 'jane.doe@example.com'],
      ['contact: a@b.co', 'a@b.co'],
      ['{"email":"a+tag@mail.example.co.uk"}', 'a+tag@mail.example.co.uk'],
      ["INSERT INTO t VALUES ('x_y-z@sub-domain.example.org')", 'x_y-z@sub-domain.example.org'],
      ['mail jane@example.com.', 'jane@example.com'],
      ['<jane@example.com>', 'jane@example.com'],
    ],
    ['user@localhost', '@example.com', 'a@b', 'not an email @ all', 'price: 5 @ 3.50', 'jane@-example.com', 'jane@example.c0m', 'x@.com'],
  );

  it('finds several in one text', () => {
    assert.deepEqual(found(new EmailAddressDetector(), 'a@x.io, b@y.io; c@z.io'), ['a@x.io', 'b@y.io', 'c@z.io']);
  });
});

describe('PHONE_NUMBER', () => {
  examples(
    new PhoneNumberDetector(),
    [
      ['+44 20 7946 0958', '+44 20 7946 0958'],
      ['call +1 (212) 555-0123 today', '+1 (212) 555-0123'],
      ['(212) 555-0123', '(212) 555-0123'],
      ['tel 212-555-0123', '212-555-0123'],
      ['212.555.0123', '212.555.0123'],
      ['{"phone":"+33 1 23 45 67 89"}', '+33 1 23 45 67 89'],
      ['+4915112345678', '+4915112345678'],
    ],
    ['2024-01-15', '192.168.1.1', '1234567890', '12:30:45', 'v1.2.3', '123-456-7890', 'order 555-0123', '+12 34', '3.14159265', '2024-01-15 10:11:12.123456+00'],
  );
});

describe('US_SSN', () => {
  examples(
    new UsSsnDetector(),
    [
      ['536-22-1234', '536-22-1234'],
      ['ssn: 078 05 1120', '078 05 1120'],
      ['{"ssn":"123-45-6789"}', '123-45-6789'],
    ],
    ['000-12-3456', '666-12-3456', '912-34-5678', '123-00-4567', '123-45-0000', '123456789', '123-45 6789', '2024-01-1515', 'x-123-45-6789-y', '1123-45-6789'],
  );
});

describe('CREDIT_CARD', () => {
  it('checks the Luhn digit', () => {
    for (const valid of ['4111111111111111', '5500000000000004', '378282246310005', '6011111111111117', '4012888888881881']) assert.ok(luhnValid(valid), valid);
    for (const invalid of ['4111111111111112', '5500000000000005', '1234567812345678', '']) assert.ok(!luhnValid(invalid), invalid);
  });

  examples(
    new CreditCardDetector(),
    [
      ['4111 1111 1111 1111', '4111 1111 1111 1111'],
      ['card: 4111-1111-1111-1111.', '4111-1111-1111-1111'],
      ['{"card_number":"5500000000000004"}', '5500000000000004'],
      ['{"card_number":5500000000000004}', '5500000000000004'],
      ['amex 3782 822463 10005', '3782 822463 10005'],
      ['ref 12 4111 1111 1111 1111', '4111 1111 1111 1111'],
      ['4111 1111 1111 1111 12 items', '4111 1111 1111 1111'],
    ],
    ['4111 1111 1111 1112', '4111111111111112', '1234567812345678', '0000000000000000', '41111111111111111111111', 'order 2024-01-15-0001', '192.168.100.100'],
  );

  it('finds cards among the short numbers of a digit-dense log, at the text\'s edges, and after doubled separators', () => {
    const detector = new CreditCardDetector();
    const found = (text: string): string[] => detector.find(text).map((span) => text.slice(span.start, span.end));
    const log = '2026-12-06T10:00:25Z worker-3 batch 7919 in 5 ms\n'.repeat(40);
    assert.deepEqual(found(`${log}paid 4111 1111 1111 1111\n${log}`), ['4111 1111 1111 1111']);
    assert.deepEqual(found('4111111111111111'), ['4111111111111111']);
    assert.deepEqual(found('x 4111-1111-1111-1111'), ['4111-1111-1111-1111']);
    assert.deepEqual(found('4111  1111 1111 1111 and 5500 0000 0000 0004-'), ['5500 0000 0000 0004']);
    assert.deepEqual(found('12 34 56 78 90 12 34 56'), [], 'many short groups are no card');
  });
});

describe('IBAN_CODE', () => {
  it('checks mod 97 and the country length', () => {
    for (const valid of ['DE89370400440532013000', 'GB82WEST12345698765432', 'FR1420041010050500013M02606', 'NL91ABNA0417164300']) assert.ok(ibanValid(valid), valid);
    for (const invalid of ['DE89370400440532013001', 'DE8937040044053201300', 'GB82WEST1234569876543', 'XX00', 'de89370400440532013000']) assert.ok(!ibanValid(invalid), invalid);
  });

  examples(
    new IbanDetector(),
    [
      ['DE89 3704 0044 0532 0130 00', 'DE89 3704 0044 0532 0130 00'],
      ['pay to GB82WEST12345698765432 now', 'GB82WEST12345698765432'],
      ['{"iban":"FR14 2004 1010 0505 0001 3M02 606"}', 'FR14 2004 1010 0505 0001 3M02 606'],
      ['IBAN NL91 ABNA 0417 1643 00 AND MORE', 'NL91 ABNA 0417 1643 00'],
    ],
    ['DE89 3704 0044 0532 0130 01', 'DE89370400440532013000X', 'AB12CDEFGHIJKLMNOP', 'ORDER12 2024 0115 0001', 'THE QUICK BROWN FOX JUMPS'],
  );
});

describe('the value scrubber', () => {
  const scrubber = new ValueScrubber();

  it('replaces only the spans it finds inside JSON from row_to_json, which stays valid JSON', () => {
    const row = JSON.stringify({
      id: 7,
      email: 'jane.doe@example.com',
      card: '4111 1111 1111 1111',
      iban: 'DE89370400440532013000',
      ssn: '536-22-1234',
      note: 'call +44 20 7946 0958 after 5',
      created: '2024-01-15T10:11:12Z',
    });
    const { text, spans } = scrubber.scrubText(row);
    assert.deepEqual(spans.map((span) => span.entity), ['EMAIL_ADDRESS', 'CREDIT_CARD', 'IBAN_CODE', 'US_SSN', 'PHONE_NUMBER']);
    assert.deepEqual(JSON.parse(text), {
      id: 7,
      email: '<EMAIL_ADDRESS>',
      card: '<CREDIT_CARD>',
      iban: '<IBAN_CODE>',
      ssn: '<US_SSN>',
      note: 'call <PHONE_NUMBER> after 5',
      created: '2024-01-15T10:11:12Z',
    });
  });

  it('leaves text without personal data as it was, the same string', () => {
    const text = 'order 7 shipped on 2024-01-15 for 12.50 EUR, invoice INV-2024-0001';
    assert.equal(scrubber.scrubText(text).text, text);
  });

  it('scrubs bytes and keeps every other byte exactly, whatever its encoding', () => {
    const original = Buffer.concat([Buffer.from('Zoë ✓ '), Buffer.from([0xff, 0xfe]), Buffer.from(' jane@example.com — 4111111111111111')]);
    const { bytes, spans } = scrubber.scrubBytes(original);
    assert.equal(spans.length, 2);
    assert.deepEqual(bytes, Buffer.concat([Buffer.from('Zoë ✓ '), Buffer.from([0xff, 0xfe]), Buffer.from(' <EMAIL_ADDRESS> — <CREDIT_CARD>')]));
  });

  it('hands back the very same Buffer when nothing is found', () => {
    const clean = Buffer.from('nothing to see here, 42 rows');
    assert.equal(scrubber.scrubBytes(clean).bytes, clean);
  });

  it('takes a replacement of the caller’s choosing', () => {
    const stars = new ValueScrubber(undefined, (_entity, original) => '*'.repeat(original.length));
    assert.equal(stars.scrubText('ssn 536-22-1234').text, 'ssn ***********');
  });

  it('settles overlapping finds once, keeping the wider match', () => {
    const { spans } = scrubber.scrubText('+1 212-555-0123');
    assert.equal(spans.length, 1);
    assert.deepEqual([spans[0]!.start, spans[0]!.end], [0, 15]);
  });

  it('copes with long adversarial runs', () => {
    for (const text of ['1 '.repeat(50_000), '@'.repeat(100_000), `${'a'.repeat(100_000)}@`, `${'A1'.repeat(50_000)}`, '4'.repeat(100_000)]) {
      assert.deepEqual(scrubber.find(text), []);
    }
  });
});
