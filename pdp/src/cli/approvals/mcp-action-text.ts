// An MCP request as the approver reads it in a terminal: the method and what it names, then each
// argument under its name — SQL as SQL (the PDP's lexer spans colour it), a shell command as the
// command, anything else as indented JSON. The arguments are those the approval binds to.
import type { ActionDisplay } from '../../approvals/action-display.ts';
import type { SqlSpan } from '../../approvals/sql-display-spans.ts';

/** One part of the text: `spans` (SQL) are offsets into this part's own text. */
export interface McpTextPart {
  readonly text: string;
  readonly kind: 'heading' | 'label' | 'sql' | 'shell' | 'json';
  readonly spans?: readonly SqlSpan[];
}

export function mcpTextParts(action: Record<string, unknown>, display: ActionDisplay | undefined): McpTextPart[] {
  const method = typeof action.method === 'string' ? action.method : 'mcp';
  const named = firstString(action.tool, action.uri, action.prompt);
  const parts: McpTextPart[] = [{ text: `${method}${named === undefined ? '' : ` ${named}`}${action.direction === 'to_client' ? ' (the server asks the agent)' : ''}`, kind: 'heading' }];
  const args = typeof action.arguments === 'object' && action.arguments !== null ? (action.arguments as Record<string, unknown>) : undefined;
  for (const [name, value] of Object.entries(args ?? {})) {
    const shown = Object.hasOwn(display?.mcp_arguments ?? {}, name) ? display?.mcp_arguments?.[name] : undefined;
    parts.push({ text: `\n${name}:\n`, kind: 'label' });
    if (shown?.kind === 'sql' && typeof value === 'string') parts.push({ text: value, kind: 'sql', ...(shown.sql_spans ? { spans: shown.sql_spans } : {}) });
    else if (shown?.kind === 'shell' && typeof value === 'string') parts.push({ text: value, kind: 'shell' });
    else parts.push({ text: JSON.stringify(value, null, 2) ?? 'undefined', kind: 'json' });
  }
  if (action.params !== undefined) parts.push({ text: '\nparams:\n', kind: 'label' }, { text: JSON.stringify(action.params, null, 2) ?? '', kind: 'json' });
  return parts;
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((value): value is string => typeof value === 'string');
}
