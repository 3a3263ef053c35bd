import type { ActionV1 } from '@portcullis/contract';

const MAX_SUMMARY = 200;

/** One line naming the command for a queue row; the full action is shown beside it. */
export function summarizeAction(action: ActionV1): string {
  switch (action.type) {
    case 'sql':
      return oneLine(action.sql);
    case 'shell':
      return oneLine(action.command);
    case 'kubernetes':
    case 'http':
      return oneLine(`${action.method.toUpperCase()} ${action.path}`);
    case 'connect':
      return oneLine(`connect (${action.protocol})${action.database ? ` to ${action.database}` : ''}${action.user ? ` as ${action.user}` : ''}${connectChannel(action)}`);
    case 'file':
      // As sent: a relative path names the directory it is resolved from.
      return oneLine(`${action.operation} ${action.path}${action.target_path === undefined ? '' : ` → ${action.target_path}`}${action.cwd === undefined ? '' : ` (in ${action.cwd})`}`);
    case 'network':
      return oneLine(`${action.direction} ${action.transport === 'unix' ? (action.socket_path ?? '') : `${action.host ?? ''}:${action.port ?? ''}`}`);
    case 'mcp':
      return oneLine(mcpSummary(action));
  }
}

function mcpSummary(action: Extract<ActionV1, { type: 'mcp' }>): string {
  const args = action.arguments === undefined ? '' : ` ${JSON.stringify(action.arguments)}`;
  switch (action.method) {
    case 'tools/call':
      return `${action.tool ?? ''}${args}`;
    case 'resources/read':
      return `read ${action.uri ?? ''}`;
    case 'prompts/get':
      return `prompt ${action.prompt ?? ''}${args}`;
    default:
      return action.direction === 'to_client' ? `${action.method} (server to agent)` : action.method;
  }
}

function connectChannel(action: Extract<ActionV1, { type: 'connect' }>): string {
  const parts = [action.channel === 'subsystem' && action.subsystem ? `subsystem ${action.subsystem}` : action.channel, action.pty ? 'pty' : undefined].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** Spaces, tabs and line feeds fold to one space; every other character (a CR, a U+2028) stays for the consoles to show by name. */
function oneLine(text: string): string {
  const flat = text.replace(/[ \t\n]+/g, ' ').trim();
  return flat.length > MAX_SUMMARY ? `${flat.slice(0, MAX_SUMMARY - 1)}…` : flat;
}
