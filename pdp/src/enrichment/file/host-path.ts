/**
 * Reads a path the way a POSIX host will act on it, or refuses it. What policy sees must be
 * exactly the file the host opens, so nothing here guesses:
 *  - `.` segments, repeated and trailing slashes are dropped (the kernel ignores them);
 *  - a relative path is joined to the absolute directory the host resolves it from (`cwd`), and
 *    refused when there is none;
 *  - a `..` segment is refused: after a symbolic link it climbs from the link's target, not from
 *    the directory the text names, and the PDP cannot see the host's links;
 *  - NUL (the host cuts the path there), U+FFFD (bytes that were not UTF-8, replaced on the way)
 *    and lone surrogates (no byte sequence stands for them) are refused;
 *  - a path through a process's view of the file system (`/proc/self/root/etc/shadow`,
 *    `/proc/1/cwd/…`, `/proc/self/fd/3`, `/dev/fd/3`) is refused: the kernel resolves it to
 *    another file, which no rule written on paths would see.
 * `~` is an ordinary character to the kernel and SFTP; a PEP that lets a shell expand it (legacy
 * scp) must send the expanded path.
 */
import { MAX_PATH } from '@portcullis/contract';

export type HostPathReading = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly problem: string };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The absolute, normalised path `path` names on the host, resolved from `cwd` when relative. */
export function readHostPath(path: string, cwd: string | undefined): HostPathReading {
  const unreadable = unreadableCharacters(path);
  if (unreadable) return { ok: false, problem: unreadable };
  if (path === '') return { ok: false, problem: 'is empty' };
  let joined = path;
  if (!path.startsWith('/')) {
    if (cwd === undefined) return { ok: false, problem: 'is relative and no absolute cwd says where the host resolves it from' };
    if (!cwd.startsWith('/')) return { ok: false, problem: 'is relative to a cwd that is not absolute' };
    const base = readHostPath(cwd, undefined);
    if (!base.ok) return { ok: false, problem: `is relative to a cwd that ${base.problem}` };
    joined = `${base.path}/${path}`;
  }
  const segments = joined.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) {
    return { ok: false, problem: 'has a .. segment: where it leads depends on symbolic links on the host, so it cannot be read canonically' };
  }
  if (throughProcessView(segments)) {
    return { ok: false, problem: 'goes through a process\'s view of the file system (/proc/<pid>/root, cwd, fd …): the host resolves it to another file, so it cannot be read canonically' };
  }
  const normalised = `/${segments.join('/')}`;
  if (normalised.length > MAX_PATH) return { ok: false, problem: `is longer than ${MAX_PATH} characters once resolved` };
  return { ok: true, path: normalised };
}

/** The directory holding `path` (an absolute, normalised path). */
export function parentDirectory(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/** Links the kernel follows to another place: a process's root, working directory, open files, executable. */
const PROCESS_VIEW_LINKS = new Set(['root', 'cwd', 'fd', 'map_files', 'exe', 'fdinfo']);

function throughProcessView(segments: readonly string[]): boolean {
  if (segments[0] === 'dev' && segments[1] === 'fd') return segments.length > 2;
  if (segments[0] !== 'proc' || segments.length < 3) return false;
  // /proc/<pid>/…, /proc/self/…, /proc/thread-self/…, and a thread's /proc/<pid>/task/<tid>/….
  const at = segments[2] === 'task' ? 4 : 2;
  return PROCESS_VIEW_LINKS.has(segments[at] ?? '');
}

function unreadableCharacters(path: string): string | undefined {
  if (path.includes('\u0000')) return 'contains a NUL character, where the host would cut the path';
  if (path.includes('\uFFFD')) return 'contains U+FFFD: bytes that were not UTF-8 were replaced, so the path the host acts on is not known';
  if (LONE_SURROGATE.test(path)) return 'contains a lone surrogate, which no byte sequence on the host stands for';
  return undefined;
}
