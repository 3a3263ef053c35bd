/**
 * The one form of a path that both the PDP and the host are given. A client's path is made
 * absolute against the session's start directory and its `.`, `..` and repeated slashes are
 * resolved lexically, and that text (not the client's) is what the host is sent: a `..` after a
 * symbolic link cannot lead the host elsewhere than the path policy judged. Symbolic links the
 * path passes through are still followed by the host, as for any process there; policy on a
 * path speaks of that name.
 *
 * Refused: an empty path, a NUL (the host would cut the path there), and text that was not
 * UTF-8 (decoded with replacement characters, it no longer names what the client sent).
 */
export type RemotePath = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly problem: string };

const REPLACEMENT_CHARACTER = '\uFFFD';

export function resolveRemotePath(path: string, cwd: string): RemotePath {
  const unreadable = unreadablePathProblem(path);
  if (unreadable) return { ok: false, problem: unreadable };
  const joined = path.startsWith('/') ? path : `${cwd}/${path}`;
  const parts: string[] = [];
  for (const part of joined.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return { ok: true, path: `/${parts.join('/')}` };
}

/** Why a path (or a symbolic link's stored target) cannot be passed on, or undefined. */
export function unreadablePathProblem(path: string): string | undefined {
  if (path.length === 0) return 'an empty path';
  if (path.includes('\0')) return 'a path with a NUL character';
  if (path.includes(REPLACEMENT_CHARACTER)) return 'a path that is not UTF-8';
  return undefined;
}
