import { gunzipSync } from 'node:zlib';

/** One regular file from a tar archive, with its path normalised to start with `/`. */
export interface ArchiveFile {
  readonly path: string;
  readonly bytes: Buffer;
}

const BLOCK = 512;

/**
 * Reads the regular files of a gzip-compressed tar archive (ustar and GNU long names).
 * Bundles are small, so the whole archive is read in memory; sizes are capped by the caller.
 */
export function readTarGz(archive: Buffer, maxUncompressedBytes: number): ArchiveFile[] {
  const tar = gunzipSync(archive, { maxOutputLength: maxUncompressedBytes });
  const files: ArchiveFile[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const size = parseOctal(header.subarray(124, 136));
    const type = String.fromCharCode(header[156] ?? 0);
    const dataStart = offset + BLOCK;
    if (dataStart + size > tar.length) throw new Error('truncated tar archive');
    const data = tar.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'L') {
      longName = cString(data);
      continue;
    }
    if (type !== '0' && type !== '\0') {
      longName = undefined;
      continue; // directories, links and extended headers carry no bundle content
    }
    const prefix = cString(header.subarray(345, 500));
    const name = longName ?? (prefix ? `${prefix}/${cString(header.subarray(0, 100))}` : cString(header.subarray(0, 100)));
    longName = undefined;
    files.push({ path: normalisePath(name), bytes: Buffer.from(data) });
  }
  return files;
}

function parseOctal(field: Buffer): number {
  const text = cString(field).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new Error('corrupt tar header');
  return parseInt(text, 8);
}

function cString(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

function normalisePath(name: string): string {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw new Error(`unsafe path in archive: ${name}`);
  return `/${parts.join('/')}`;
}
