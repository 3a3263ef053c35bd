/**
 * The request target as the API server will read it, or why it cannot be forwarded. The PEP never
 * normalises a path: one that the API server, the PDP's RequestInfo and any cleaner in between
 * could read differently (dot segments, doubled or trailing slashes, encoded separators, a
 * backslash, bad escapes) is refused, so what was decided is exactly what runs.
 */
export type RequestTarget = { readonly path: string; readonly rawQuery: string } | { readonly problem: string };

export function readRequestTarget(target: string): RequestTarget {
  // Origin form only: an absolute-form target (http://host/…) or '*' names another server or nothing.
  if (!target.startsWith('/')) return { problem: 'only origin-form request targets (/path?query) are accepted' };
  const questionMark = target.indexOf('?');
  const path = questionMark === -1 ? target : target.slice(0, questionMark);
  const rawQuery = questionMark === -1 ? '' : target.slice(questionMark + 1);
  const problem = pathProblem(path);
  if (problem !== undefined) return { problem: `the path is not canonical (${problem}); send it without it` };
  if (/[\u0000-\u0020\u007f-\uffff#]/.test(rawQuery)) return { problem: 'the query carries characters that must be percent-encoded' };
  return { path, rawQuery };
}

/** Why a raw path is ambiguous, or undefined when it reads one way only. */
export function pathProblem(path: string): string | undefined {
  if (path === '/') return undefined;
  if (path.startsWith('//')) return 'it starts with //';
  if (path.endsWith('/')) return 'a trailing slash';
  if (path.includes('\\')) return 'a backslash';
  if (/[\u0000-\u0020\u007f-\uffff#]/.test(path)) return 'characters that must be percent-encoded';
  for (const raw of path.slice(1).split('/')) {
    if (raw === '') return 'an empty segment (//)';
    const decoded = percentDecoded(raw);
    if (decoded === undefined) return 'a malformed or non-UTF-8 percent-escape';
    if (decoded === '.' || decoded === '..') return 'a dot segment';
    if (/[/\\?#%]/.test(decoded) && decoded !== raw) return 'an encoded separator or escape';
    if (/[\u0000-\u001f\u007f]/.test(decoded)) return 'an encoded control character';
  }
  return undefined;
}

function percentDecoded(segment: string): string | undefined {
  if (!segment.includes('%')) return segment;
  if (/%(?![0-9A-Fa-f]{2})/.test(segment)) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
