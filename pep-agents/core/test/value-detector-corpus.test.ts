// The value detectors against two corpora: values they must leave alone (ids, digests, dates,
// addresses, versions, amounts: what fills results and the PEP's own messages) and values they
// must find (each format a card, phone number, SSN, IBAN or email address is really written in).
// Random ids and digests are generated in volume, so a shape a fixed list misses still shows up.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { ValueScrubber, type DetectedEntity } from '../src/index.ts';

const scrubber = new ValueScrubber();
const GENERATED = 4000;

/** What the scrubber flags in `text`, as `ENTITY:matched text`. */
const flagged = (text: string): string[] => scrubber.find(text).map((span) => `${span.entity}:${text.slice(span.start, span.end)}`);

/** Each value alone, quoted, in JSON, in a sentence, in a PEP message and in a server error. */
function contexts(value: string): string[] {
  return [
    value,
    `"${value}"`,
    JSON.stringify({ id: value, note: 'x' }),
    `order ${value} shipped`,
    `portcullis: approval ${value} has 1 vote so far; still waiting`,
    `invalid input syntax for type integer: "${value}"`,
    `(${value})`,
    `${value}, ${value}`,
  ];
}

function assertNothingFlagged(values: Iterable<string>): void {
  const flaggedValues: string[] = [];
  for (const value of values) {
    for (const text of contexts(value)) {
      const found = flagged(text);
      if (found.length > 0) flaggedValues.push(`${JSON.stringify(text)} → ${found.join(', ')}`);
    }
  }
  assert.deepEqual(flaggedValues.slice(0, 20), [], `${flaggedValues.length} false positives`);
}

function* times<T>(count: number, make: (index: number) => T): Generator<T> {
  for (let index = 0; index < count; index += 1) yield make(index);
}

const digits = (length: number): string => [...randomBytes(length)].map((byte) => String(byte % 10)).join('');
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

describe('value detectors: the false-positive corpus (nothing here may be flagged)', () => {
  it(`leaves ${GENERATED} random UUIDs alone (lower and upper case, braced, without dashes)`, () => {
    assertNothingFlagged(times(GENERATED, (index) => {
      const uuid = randomUUID();
      return [uuid, uuid.toUpperCase(), `{${uuid}}`, uuid.replaceAll('-', ''), `urn:uuid:${uuid}`][index % 5]!;
    }));
  });

  it(`leaves ${GENERATED} UUIDs whose hex is mostly digits alone (the approval-id bug)`, () => {
    // A UUID of digits but for its version nibble: the shape most likely to pass a Luhn check.
    assertNothingFlagged(times(GENERATED, () => {
      const d = digits(32);
      return `${d.slice(0, 8)}-${d.slice(8, 12)}-4${d.slice(13, 16)}-8${d.slice(17, 20)}-${d.slice(20, 32)}`;
    }));
    assertNothingFlagged(['babbb0ec-1ddd-420e-83a4-111111111111', 'babbb0ec-1ddd-420e-83a1-234567890123', '00000000-0000-4000-8000-411111111111']);
  });

  it(`leaves ${GENERATED} SHA-1 and SHA-256 digests, MD5 sums and git ids alone`, () => {
    assertNothingFlagged(times(GENERATED, (index) => {
      const data = randomBytes(16);
      return [
        createHash('sha1').update(data).digest('hex'),
        createHash('sha256').update(data).digest('hex'),
        createHash('md5').update(data).digest('hex').toUpperCase(),
        createHash('sha1').update(data).digest('hex').slice(0, 7),
        `sha256:${createHash('sha256').update(data).digest('hex')}`,
      ][index % 5]!;
    }));
  });

  it(`leaves ${GENERATED} digit-heavy hex tokens alone (a digest that happens to hold a long digit run)`, () => {
    assertNothingFlagged(times(GENERATED, (index) => {
      const run = digits(13 + (index % 7));
      return [`a${run}f`, `${hex(4)}${run}${hex(2)}`, `${run}e${hex(3)}`, `0x${run}`, `${hex(3)}-${run}`][index % 5]!;
    }));
  });

  it(`leaves ${GENERATED} ISO dates, timestamps and epoch times (seconds to nanoseconds) alone`, () => {
    const start = Date.UTC(1990, 0, 1);
    assertNothingFlagged(times(GENERATED, (index) => {
      const ms = start + Math.floor(Math.random() * 50 * 365 * 86_400_000);
      const iso = new Date(ms).toISOString();
      return [
        iso,
        iso.slice(0, 10),
        iso.replace('T', ' ').replace('Z', '+00'),
        iso.replace('Z', '+05:30'),
        String(ms),
        String(ms * 1000),
        `${String(ms * 1_000_000)}`,
        iso.replace(/[-:]/g, '').replace('.', ''),
        iso.slice(0, 19).replace(/[-:T]/g, ''),
      ][index % 9]!;
    }));
  });

  it('leaves IPv4 and IPv6 addresses, MAC addresses and ports alone', () => {
    assertNothingFlagged(times(GENERATED, (index) => {
      const bytes = [...randomBytes(16)];
      const v6 = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16)).join(':');
      return [
        bytes.slice(0, 4).join('.'),
        `${bytes.slice(0, 4).join('.')}:5432`,
        v6,
        `[${v6}]:443`,
        `fe80::${v6.split(':').slice(4).join(':')}`,
        bytes.slice(0, 6).map((byte) => byte.toString(16).padStart(2, '0')).join(':'),
      ][index % 6]!;
    }));
  });

  it('leaves order ids, invoice numbers, tracking numbers, versions and amounts alone', () => {
    assertNothingFlagged(times(GENERATED, (index) => {
      const d = digits(19);
      return [
        `ORD-${d.slice(0, 16)}`,
        `INV-2024-${d.slice(0, 6)}`,
        `order-${d}`,
        `${d.slice(0, 16)}-A`,
        `1Z${hex(8).toUpperCase()}${d.slice(0, 8)}`,
        `v${d[0]}.${d.slice(1, 3)}.${d.slice(3, 6)}`,
        `${d.slice(0, 4)}.${d.slice(4, 8)}.${d.slice(8, 12)}.${d.slice(12, 16)}`,
        `${d.slice(0, 13)}.${d.slice(13, 15)}`,
        `-${d.slice(0, 16)}`,
        `${d.slice(0, 3)}.${d.slice(3, 16)}`,
        `PO_${d.slice(0, 16)}`,
        `#${d.slice(0, 3)}-${d.slice(3, 5)}-${d.slice(5, 9)}-${d.slice(9, 12)}`,
      ][index % 12]!;
    }));
  });

  it('leaves phone-like and SSN-like numbers that are neither alone', () => {
    assertNothingFlagged([
      '123-456-7890', '012-345-6789', '555-0123', '1234567890', '(123) 456-7890', '2024-01-15', '12:30:45',
      '212-555-0123-4', 'x-212-555-0123', '212-555-0123.5', 'ext.212-555-0123', '3.14159265358979',
      '000-12-3456', '666-12-3456', '912-34-5678', '123-00-4567', '123-45-0000', '123-45 6789', 'a123-45-6789', '123-45-6789-0',
      'v123-45-6789', '1.123-45-6789', 'id-536-22-1234', '+0 123 456 789', '1+2345678901', '2024-01-15T10:11:12+0100',
    ]);
  });

  it('leaves card-like numbers outside the card networks alone', () => {
    // Luhn-valid but of no issuer range (first digits 0, 1, 7, 8, 9, or 2000–2220), or of a wrong
    // length for the network, or printed in groups no card uses.
    const luhnComplete = (partial: string): string => {
      for (let check = 0; check <= 9; check += 1) {
        const candidate = `${partial}${check}`;
        if (scrubberLuhn(candidate)) return candidate;
      }
      throw new Error('unreachable');
    };
    const values = [...times(GENERATED, (index) => {
      const prefix = ['0', '1', '7', '8', '9', '2000', '2100', '2220'][index % 8]!;
      const length = 13 + (index % 7);
      return luhnComplete(`${prefix}${digits(length - prefix.length - 1)}`);
    })];
    values.push(luhnComplete(`4${digits(13)}`), luhnComplete(`37${digits(14)}`), luhnComplete(`51${digits(15)}`)); // 15, 17, 18 digits: not Visa, Amex, Mastercard lengths
    values.push('4111 11 11 1111 1111', '41-11-11-11-11-11-11-11', '4111 1111-1111 1111', '411 111 111 111 1111');
    assertNothingFlagged(values);
  });
});

describe('value detectors: the true-positive corpus (each must be found, as what it is)', () => {
  const positives: Array<[DetectedEntity, string]> = [
    // cards: the test numbers of each network, compact and as cards print them
    ['CREDIT_CARD', '4111111111111111'], ['CREDIT_CARD', '4111 1111 1111 1111'], ['CREDIT_CARD', '4111-1111-1111-1111'],
    ['CREDIT_CARD', '4012888888881881'], ['CREDIT_CARD', '4222222222222'], ['CREDIT_CARD', '5500000000000004'],
    ['CREDIT_CARD', '5555 5555 5555 4444'], ['CREDIT_CARD', '2223 0031 2200 3222'], ['CREDIT_CARD', '378282246310005'],
    ['CREDIT_CARD', '3782 822463 10005'], ['CREDIT_CARD', '3714-496353-98431'], ['CREDIT_CARD', '6011111111111117'],
    ['CREDIT_CARD', '6011 0009 9013 9424'], ['CREDIT_CARD', '3056 930902 5904'], ['CREDIT_CARD', '30569309025904'],
    ['CREDIT_CARD', '3530111333300000'], ['CREDIT_CARD', '6200000000000005'], ['CREDIT_CARD', '6759649826438453'],
    ['CREDIT_CARD', '4539 1488 0343 6467'], // the bypass corpus's Luhn-valid card
    // phone numbers
    ['PHONE_NUMBER', '+1 (415) 555-0173'], // the bypass corpus's dashed phone
    ['PHONE_NUMBER', '+44 20 7946 0958'], ['PHONE_NUMBER', '+4915112345678'], ['PHONE_NUMBER', '+33 1 23 45 67 89'],
    ['PHONE_NUMBER', '(212) 555-0123'], ['PHONE_NUMBER', '212-555-0123'], ['PHONE_NUMBER', '212.555.0123'], ['PHONE_NUMBER', '1-212-555-0123'],
    // SSNs
    ['US_SSN', '372-81-4650'], // the bypass corpus's dashed SSN
    ['US_SSN', '536-22-1234'], ['US_SSN', '078 05 1120'], ['US_SSN', '123-45-6789'],
    // IBANs
    ['IBAN_CODE', 'DE89370400440532013000'], ['IBAN_CODE', 'DE89 3704 0044 0532 0130 00'], ['IBAN_CODE', 'GB82WEST12345698765432'],
    ['IBAN_CODE', 'GB82 WEST 1234 5698 7654 32'], ['IBAN_CODE', 'FR1420041010050500013M02606'], ['IBAN_CODE', 'NL91ABNA0417164300'],
    ['IBAN_CODE', 'NO9386011117947'], ['IBAN_CODE', 'CH9300762011623852957'],
    // email addresses
    ['EMAIL_ADDRESS', 'seed.alice@example.org'], ['EMAIL_ADDRESS', 'b.k7xvane@example.net'], // the bypass corpus's
    ['EMAIL_ADDRESS', 'jane.doe@example.com'], ['EMAIL_ADDRESS', 'a+tag@mail.example.co.uk'], ['EMAIL_ADDRESS', 'X_Y-Z@Sub-Domain.Example.ORG'],
  ];

  for (const [entity, value] of positives) {
    it(`finds ${entity} ${JSON.stringify(value)} wherever it is written`, () => {
      for (const text of [value, `"${value}"`, JSON.stringify({ v: value }), `value ${value}.`, `Key (v)=(${value}) already exists.`, `(${value}, 'x')`, `${value}\t${value}`]) {
        const expected = text.split(value).length - 1;
        assert.deepEqual(flagged(text), Array.from({ length: expected }, () => `${entity}:${value}`), JSON.stringify(text));
      }
    });
  }

  it(`finds ${GENERATED} random Luhn-valid Visa and Mastercard numbers, compact and grouped`, () => {
    const missed: string[] = [];
    for (let index = 0; index < GENERATED; index += 1) {
      let card = `${index % 2 === 0 ? '4' : '5' + String(1 + (index % 5))}${digits(index % 2 === 0 ? 14 : 13)}`;
      for (let check = 0; check <= 9; check += 1) {
        if (scrubberLuhn(`${card}${check}`)) {
          card = `${card}${check}`;
          break;
        }
      }
      const text = index % 3 === 0 ? card : card.match(/.{4}/g)!.join(index % 3 === 1 ? ' ' : '-');
      if (flagged(`card ${text} on file`).join() !== `CREDIT_CARD:${text}`) missed.push(text);
    }
    assert.deepEqual(missed.slice(0, 20), [], `${missed.length} missed`);
  });
});

function scrubberLuhn(digitsText: string): boolean {
  let sum = 0;
  for (let index = 0; index < digitsText.length; index += 1) {
    let digit = Number(digitsText[digitsText.length - 1 - index]);
    if (index % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}
