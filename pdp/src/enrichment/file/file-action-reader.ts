/**
 * A file action as policy sees it: every path made absolute and normalised as the host will
 * resolve it (host-path.ts), or a parse_error naming the path that cannot be. A symbolic link's
 * target is resolved from the link's own directory, as the host will when the link is followed.
 */
import type { ActionV1 } from '@portcullis/contract';
import type { EnrichedFileAction } from './file-facts.ts';
import { parentDirectory, readHostPath } from './host-path.ts';

export function enrichFileAction(action: Extract<ActionV1, { type: 'file' }>): EnrichedFileAction {
  const { cwd, path, target_path: target, ...rest } = action;
  const asSent = { path, ...(target !== undefined ? { target_path: target } : {}), ...(cwd !== undefined ? { cwd } : {}) };
  const refused = (field: string, problem: string): EnrichedFileAction => ({
    ...rest,
    path,
    ...(target !== undefined ? { target_path: target } : {}),
    as_sent: asSent,
    paths: [],
    parse_error: `${field} ${problem}`,
  });
  const main = readHostPath(path, cwd);
  if (!main.ok) return refused('path', main.problem);
  if (target === undefined) return { ...rest, path: main.path, as_sent: asSent, paths: [main.path], parse_error: null };
  const targetBase = action.operation === 'symlink' ? parentDirectory(main.path) : cwd;
  const second = readHostPath(target, targetBase);
  if (!second.ok) return refused('target_path', second.problem);
  return { ...rest, path: main.path, target_path: second.path, as_sent: asSent, paths: [main.path, second.path], parse_error: null };
}
