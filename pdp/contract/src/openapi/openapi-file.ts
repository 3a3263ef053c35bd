import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from './openapi-document.ts';

/** Where the generated document is committed: the repository's docs/ folder. */
export const OPENAPI_PATH = fileURLToPath(new URL('../../../../docs/openapi.json', import.meta.url));

/** The document's text as committed: the contract package's version, two-space JSON, a final newline. */
export function openApiText(): string {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `${JSON.stringify(openApiDocument(version), null, 2)}\n`;
}
