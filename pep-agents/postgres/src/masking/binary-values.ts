/**
 * Binary-format cells of the types the masker can rewrite in kind: read as the text PostgreSQL
 * would have sent (so a keyed hash gives the same pseudonym in either format), and the masked
 * text written back in the type's binary form. Every other type has no rewrite here; its masked
 * cells are sent as NULL, the one value every type accepts.
 */
import { PG_TYPE } from './pg-value-types.ts';

const JSONB_VERSION = 1;

export function binaryToText(typeOid: number, bytes: Buffer): string | undefined {
  switch (typeOid) {
    case PG_TYPE.int2:
      return bytes.length === 2 ? String(bytes.readInt16BE(0)) : undefined;
    case PG_TYPE.int4:
      return bytes.length === 4 ? String(bytes.readInt32BE(0)) : undefined;
    case PG_TYPE.oid:
      return bytes.length === 4 ? String(bytes.readUInt32BE(0)) : undefined;
    case PG_TYPE.int8:
      return bytes.length === 8 ? bytes.readBigInt64BE(0).toString() : undefined;
    case PG_TYPE.float4:
      return bytes.length === 4 ? float4Text(bytes.readFloatBE(0)) : undefined;
    case PG_TYPE.float8:
      return bytes.length === 8 ? floatText(bytes.readDoubleBE(0)) : undefined;
    case PG_TYPE.bool:
      return bytes.length === 1 ? (bytes[0] ? 't' : 'f') : undefined;
    case PG_TYPE.uuid:
      return bytes.length === 16 ? uuidText(bytes) : undefined;
    case PG_TYPE.bytea:
      return `\\x${bytes.toString('hex')}`;
    case PG_TYPE.jsonb:
      return bytes[0] === JSONB_VERSION ? bytes.toString('utf8', 1) : undefined;
    case PG_TYPE.text:
    case PG_TYPE.varchar:
    case PG_TYPE.bpchar:
    case PG_TYPE.name:
    case PG_TYPE.char:
    case PG_TYPE.unknown:
    case PG_TYPE.xml:
    case PG_TYPE.json:
      return bytes.toString('utf8');
    default:
      return undefined;
  }
}

export function textToBinary(typeOid: number, text: string): Buffer | undefined {
  switch (typeOid) {
    case PG_TYPE.int2:
      return integer(text, 2);
    case PG_TYPE.int4:
      return integer(text, 4);
    case PG_TYPE.oid: {
      const value = Number(text);
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) return undefined;
      const out = Buffer.alloc(4);
      out.writeUInt32BE(value, 0);
      return out;
    }
    case PG_TYPE.int8:
      return integer(text, 8);
    case PG_TYPE.float4:
    case PG_TYPE.float8: {
      const value = Number(text);
      if (Number.isNaN(value) && text !== 'NaN') return undefined;
      const out = Buffer.alloc(typeOid === PG_TYPE.float4 ? 4 : 8);
      if (typeOid === PG_TYPE.float4) out.writeFloatBE(value, 0);
      else out.writeDoubleBE(value, 0);
      return out;
    }
    case PG_TYPE.bool:
      return text === 't' || text === 'f' ? Buffer.from([text === 't' ? 1 : 0]) : undefined;
    case PG_TYPE.uuid: {
      const hex = text.replace(/-/g, '');
      return /^[0-9a-fA-F]{32}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
    }
    case PG_TYPE.bytea:
      return /^\\x(?:[0-9a-fA-F]{2})*$/.test(text) ? Buffer.from(text.slice(2), 'hex') : undefined;
    case PG_TYPE.jsonb:
      return Buffer.concat([Buffer.from([JSONB_VERSION]), Buffer.from(text, 'utf8')]);
    case PG_TYPE.text:
    case PG_TYPE.varchar:
    case PG_TYPE.bpchar:
    case PG_TYPE.name:
    case PG_TYPE.unknown:
    case PG_TYPE.xml:
    case PG_TYPE.json:
      return Buffer.from(text, 'utf8');
    default:
      return undefined;
  }
}

/** A masked integer wider than the column (a 31-bit pseudonym in an int2) wraps into range. */
function integer(text: string, width: 2 | 4 | 8): Buffer | undefined {
  if (!/^-?\d+$/.test(text)) return undefined;
  const bits = BigInt(width * 8);
  const wrapped = BigInt.asIntN(Number(bits), BigInt(text));
  const out = Buffer.alloc(width);
  if (width === 2) out.writeInt16BE(Number(wrapped), 0);
  else if (width === 4) out.writeInt32BE(Number(wrapped), 0);
  else out.writeBigInt64BE(wrapped, 0);
  return out;
}

function floatText(value: number): string {
  return Number.isFinite(value) ? String(value) : Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/** The shortest decimal that reads back as the same float4, as PostgreSQL prints it. */
function float4Text(value: number): string {
  if (!Number.isFinite(value)) return floatText(value);
  for (let digits = 1; digits <= 9; digits += 1) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return String(candidate);
  }
  return String(value);
}

function uuidText(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
