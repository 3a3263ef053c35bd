import { asObject, asString } from '../audit/json-fields.ts';

const LONGEST = 120;

/** The recorded action as one short line: what a reviewer recognises a decision by. */
export function actionSummary(action: unknown): string {
  const fields = asObject(action) ?? {};
  const type = asString(fields.type) ?? '?';
  const parts: string[] = [];
  switch (type) {
    case 'sql':
      parts.push(asString(fields.sql) ?? '');
      break;
    case 'shell':
      parts.push(asString(fields.command) ?? '');
      break;
    case 'kubernetes':
    case 'http':
      parts.push(asString(fields.method) ?? '', asString(fields.path) ?? '');
      break;
    case 'file':
      parts.push(asString(fields.operation) ?? '', asString(fields.path) ?? '');
      break;
    case 'network':
      parts.push(asString(fields.direction) ?? '', `${asString(fields.host) ?? asString(fields.socket_path) ?? ''}${typeof fields.port === 'number' ? `:${fields.port}` : ''}`);
      break;
    case 'connect':
      parts.push(asString(fields.protocol) ?? '', asString(fields.user) ?? '', asString(fields.database) ?? '');
      break;
    case 'mcp':
      parts.push(asString(fields.method) ?? '', asString(fields.tool) ?? asString(fields.uri) ?? asString(fields.prompt) ?? '');
      break;
  }
  const text = `${type} ${parts.filter(Boolean).join(' ')}`.replace(/\s+/g, ' ').trim();
  return text.length > LONGEST ? `${text.slice(0, LONGEST - 1)}…` : text;
}
