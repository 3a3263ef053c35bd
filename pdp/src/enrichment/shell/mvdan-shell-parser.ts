/**
 * mvdan/sh (the parser behind shfmt), in its GopherJS build `mvdan-sh`, turned into the plain
 * syntax tree of ./syntax-tree.ts.
 *
 * Why not `sh-syntax` (the WASM build): its JSON bridge keeps only statement positions (a
 * command is `{Pos, End}`, no type, no words), and it instantiates a fresh WASM module on every
 * call (≈4.6 ms). Why read GopherJS's internal objects rather than the wrapped public API: every
 * wrapped property read copies slices across the bridge (≈5–20 µs each), which made a large
 * command take seconds. The internal layout (struct fields as properties, slices as
 * {$array,$offset,$length}, `constructor.string` naming the Go type, Go strings as byte strings)
 * is checked against a probe script when the parser is created, so a different layout fails at
 * start-up instead of analysing wrongly.
 */
import { createRequire } from 'node:module';
import { isNode, type ShellFile, type SyntaxNode } from './syntax-tree.ts';

export type ShellParseResult =
  | { ok: true; file: ShellFile; rawText: (node: SyntaxNode) => string }
  | { ok: false; error: string };

export interface ShellParser {
  /** Never throws: a syntax error, a too deep tree or a parser failure is an error string. */
  parse(source: string): ShellParseResult;
}

/** Deeper trees are refused: recursion over them would exhaust the stack. */
const MAX_TREE_DEPTH = 1500;
/** Fields that hold comments or positions only. */
const SKIPPED_FIELDS = new Set(['$val', 'Comments', 'Last', 'CondLast', 'ThenLast', 'DoLast']);

interface GoType {
  readonly string?: string;
  readonly nil?: unknown;
}

interface GoObject {
  readonly constructor: GoType;
  readonly [field: string]: unknown;
}

interface GoSlice {
  readonly $array: ArrayLike<unknown>;
  readonly $offset: number;
  readonly $length: number;
}

interface GoPos {
  readonly offs: number;
}

interface MvdanParser {
  Parse(source: string, name: string): { readonly __internal_object__: GoObject };
}

interface MvdanModule {
  readonly syntax: {
    NewParser(...options: unknown[]): MvdanParser;
    Variant(language: unknown): unknown;
    readonly LangBash: unknown;
  };
}

class TreeTooDeep extends Error {}

const GO_OBJECT = Symbol('mvdan-sh node');

let mvdan: MvdanModule | undefined;

function loadMvdan(): MvdanModule {
  if (mvdan) return mvdan;
  const hadRequire = 'require' in globalThis;
  mvdan = createRequire(import.meta.url)('mvdan-sh') as MvdanModule;
  // The GopherJS runtime publishes `require` as a global for Go's os/syscall packages, which the
  // parser never uses; do not leave it behind in an ESM process.
  if (!hadRequire) delete (globalThis as { require?: unknown }).require;
  return mvdan;
}

export function createShellParser(): ShellParser {
  const syntax = loadMvdan().syntax;
  const newParser = (): MvdanParser => syntax.NewParser(syntax.Variant(syntax.LangBash));
  let parser = newParser();
  const operators = probeOperatorTokens(parser);

  const parse = (source: string): ShellParseResult => {
    let root: GoObject;
    try {
      root = parser.Parse(source, '').__internal_object__;
    } catch (error) {
      const message = parseErrorMessage(error);
      if (message !== null) return { ok: false, error: message };
      // A stack overflow or a Go panic may leave the parser's state half-updated: start afresh.
      parser = newParser();
      if (error instanceof RangeError) return { ok: false, error: 'command nests too deeply to analyse' };
      return { ok: false, error: `shell parser failed: ${String(error)}` };
    }
    try {
      const file = convertNode(root, 0, operators);
      if (!isNode(file, 'File')) return { ok: false, error: 'shell parser returned no file' };
      const bytes = Buffer.from(source, 'utf8');
      return { ok: true, file, rawText: (node) => rawText(node, bytes) };
    } catch (error) {
      if (error instanceof TreeTooDeep || error instanceof RangeError) {
        return { ok: false, error: 'command nests too deeply to analyse' };
      }
      return { ok: false, error: `shell syntax tree unreadable: ${String(error)}` };
    }
  };

  verifyTreeShape(parse);
  return { parse };
}

/** mvdan/sh errors come through the GopherJS wrapper with an Error() method: "1:6: reached EOF …". */
function parseErrorMessage(error: unknown): string | null {
  if (typeof error !== 'object' || error === null || error instanceof Error) return null;
  const describe = (error as { Error?: unknown }).Error;
  if (typeof describe !== 'function') return null;
  const message: unknown = describe.call(error);
  return typeof message === 'string' ? message : null;
}

// ---------------------------------------------------------------------------------------------
// GopherJS objects → syntax tree

function goTypeName(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const type = (value as GoObject).constructor as GoType | undefined;
  if (!type || typeof type.string !== 'string' || !type.string.startsWith('*syntax.')) return null;
  // A typed nil pointer is a shared sentinel object of its type.
  if (type.nil === value) return null;
  return type.string.slice('*syntax.'.length);
}

function isGoSlice(value: unknown): value is GoSlice {
  return typeof value === 'object' && value !== null && '$array' in value && typeof (value as GoSlice).$length === 'number';
}

/** Every value of a Go struct type has the same fields: list them once per type. */
const fieldsByType = new Map<string, string[]>();

function convertNode(go: GoObject, depth: number, operators: Map<number, string>): SyntaxNode | null {
  if (depth > MAX_TREE_DEPTH) throw new TreeTooDeep();
  const type = goTypeName(go);
  if (type === null || type === 'Pos') return null;
  let fields = fieldsByType.get(type);
  if (!fields) {
    fields = Object.keys(go).filter((key) => !SKIPPED_FIELDS.has(key));
    fieldsByType.set(type, fields);
  }
  const node: Record<string | symbol, unknown> = { type };
  for (const key of fields) {
    const value = go[key];
    if (typeof value === 'string') node[key] = decodeGoString(value);
    else if (typeof value === 'number') node[key] = key === 'Op' ? (operators.get(value) ?? `#${value}`) : value;
    else if (typeof value === 'boolean') node[key] = value;
    else if (isGoSlice(value)) {
      const items: SyntaxNode[] = [];
      for (let index = 0; index < value.$length; index++) {
        const child = convertNode(value.$array[value.$offset + index] as GoObject, depth + 1, operators);
        if (child) items.push(child);
      }
      node[key] = items;
    } else {
      const childType = goTypeName(value);
      if (childType === 'Pos') continue;
      node[key] = childType === null ? null : convertNode(value as GoObject, depth + 1, operators);
    }
  }
  // Kept off the enumerable fields so walks and JSON never see it; read back by rawText.
  node[GO_OBJECT] = go;
  return node as unknown as SyntaxNode;
}

/** Go strings arrive as one JS char per UTF-8 byte. */
function decodeGoString(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007f]*$/.test(value)) return value;
  return Buffer.from(value, 'latin1').toString('utf8');
}

function rawText(node: SyntaxNode, bytes: Buffer): string {
  const go = (node as { [GO_OBJECT]?: GoObject & { Pos?: () => GoPos; End?: () => GoPos } })[GO_OBJECT];
  if (!go || typeof go.Pos !== 'function' || typeof go.End !== 'function') return '';
  try {
    return bytes.subarray(go.Pos().offs, go.End().offs).toString('utf8');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// Start-up probes

const REDIRECT_PROBE = ': <a >b >>c <>d >&e <&f >|g <<<h &>i &>>j <<K <<-L\nK\n\tL\n';
const REDIRECT_OPERATORS = ['<', '>', '>>', '<>', '>&', '<&', '>|', '<<<', '&>', '&>>', '<<', '<<-'];
const BINARY_PROBE = 'a | b\na |& b\na && b\na || b\n';
const BINARY_OPERATORS = ['|', '|&', '&&', '||'];
const PROCESS_PROBE = ': <(a) >(b)';
const PROCESS_OPERATORS = ['<(', '>('];
export const ARITHMETIC_ASSIGN_OPERATORS = ['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>='];
const ARITHMETIC_ASSIGN_PROBE = ARITHMETIC_ASSIGN_OPERATORS.map((op) => `((a${op}1))\n`).join('');
export const ARITHMETIC_STEP_OPERATORS = ['++', '--'];
const ARITHMETIC_STEP_PROBE = '((++a))\n((--a))\n';
export const ASSIGNING_EXPANSION_OPERATORS = ['=', ':='];
// biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansions, not a template
const EXPANSION_PROBE = ': ${a=b} ${a:=b}';

/** [[ -v NAME ]] and [[ -R NAME ]] evaluate NAME's subscript; these compare operands as arithmetic. */
export const NAME_TEST_OPERATORS = ['-v', '-R'];
const NAME_TEST_PROBE = '[[ -v a ]]\n[[ -R a ]]\n';
export const ARITHMETIC_TEST_OPERATORS = ['-eq', '-ne', '-lt', '-le', '-gt', '-ge'];
const ARITHMETIC_TEST_PROBE = ARITHMETIC_TEST_OPERATORS.map((op) => `[[ a ${op} b ]]\n`).join('');
// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
const TRANSFORM_PROBE = ': ${a@P}';

/** Learns the numbers mvdan/sh gives its operator tokens by parsing each one once. */
function probeOperatorTokens(parser: MvdanParser): Map<number, string> {
  const operators = new Map<number, string>();
  const learn = (numbers: unknown[], names: string[]): void => {
    if (numbers.length !== names.length) throw new Error('mvdan-sh: operator probe did not parse as expected');
    numbers.forEach((number, index) => {
      const name = names[index];
      // Arithmetic and expansion share some tokens (=): the same number must mean the same operator.
      if (typeof number !== 'number' || name === undefined || (operators.has(number) && operators.get(number) !== name)) {
        throw new Error('mvdan-sh: operator tokens are not distinct numbers');
      }
      operators.set(number, name);
    });
  };
  const statements = (source: string): GoObject[] => goList(parser.Parse(source, '').__internal_object__.Stmts);

  const redirectStatement = statements(REDIRECT_PROBE)[0];
  learn(goList(redirectStatement?.Redirs).map((redirect) => redirect.Op), REDIRECT_OPERATORS);
  learn(statements(BINARY_PROBE).map((statement) => (statement.Cmd as GoObject | undefined)?.Op), BINARY_OPERATORS);
  const processCall = statements(PROCESS_PROBE)[0]?.Cmd as GoObject | undefined;
  const processWords = goList(processCall?.Args).slice(1);
  learn(processWords.map((word) => goList(word.Parts)[0]?.Op), PROCESS_OPERATORS);
  const arithmetic = (source: string) => statements(source).map((statement) => ((statement.Cmd as GoObject | undefined)?.X as GoObject | undefined)?.Op);
  learn(arithmetic(ARITHMETIC_ASSIGN_PROBE), ARITHMETIC_ASSIGN_OPERATORS);
  learn(arithmetic(ARITHMETIC_STEP_PROBE), ARITHMETIC_STEP_OPERATORS);
  const expansionWords = goList((statements(EXPANSION_PROBE)[0]?.Cmd as GoObject | undefined)?.Args).slice(1);
  learn(expansionWords.map((word) => (goList(word.Parts)[0]?.Exp as GoObject | undefined)?.Op), ASSIGNING_EXPANSION_OPERATORS);
  const tests = (source: string) => statements(source).map((statement) => ((statement.Cmd as GoObject | undefined)?.X as GoObject | undefined)?.Op);
  learn(tests(NAME_TEST_PROBE), NAME_TEST_OPERATORS);
  learn(tests(ARITHMETIC_TEST_PROBE), ARITHMETIC_TEST_OPERATORS);
  const transformWords = goList((statements(TRANSFORM_PROBE)[0]?.Cmd as GoObject | undefined)?.Args).slice(1);
  learn(transformWords.map((word) => (goList(word.Parts)[0]?.Exp as GoObject | undefined)?.Op), ['@']);
  return operators;
}

function goList(value: unknown): GoObject[] {
  if (!isGoSlice(value)) return [];
  const items: GoObject[] = [];
  for (let index = 0; index < value.$length; index++) items.push(value.$array[value.$offset + index] as GoObject);
  return items;
}

/** Checks the conversion on constructs the analyzer depends on; throws when any differs. */
function verifyTreeShape(parse: (source: string) => ShellParseResult): void {
  const fail = (what: string): never => {
    throw new Error(`mvdan-sh syntax tree is not the expected shape: ${what}`);
  };
  const result = parse('X=1 r\\m "a$b" \'c\' $(d) `e` <(f) 2>&1 >|g é | h && export I=j\n');
  if (!result.ok) return fail(result.error);
  const pipeline = result.file.Stmts[0]?.Cmd;
  if (!isNode(pipeline, 'BinaryCmd') || pipeline.Op !== '&&') return fail('&& list');
  const pipe = pipeline.X.Cmd;
  if (!isNode(pipe, 'BinaryCmd') || pipe.Op !== '|') return fail('pipe');
  const call = pipe.X.Cmd;
  if (!isNode(call, 'CallExpr') || call.Assigns.length !== 1 || call.Args.length !== 7) return fail('call');
  const parts = call.Args.map((word) => (isNode(word, 'Word') ? word.Parts[0]?.type : undefined));
  const expected = ['Lit', 'DblQuoted', 'SglQuoted', 'CmdSubst', 'CmdSubst', 'ProcSubst', 'Lit'];
  if (parts.join() !== expected.join()) return fail(`word parts ${parts.join()}`);
  const name = call.Args[0]?.Parts[0];
  if (!isNode(name, 'Lit') || name.Value !== 'r\\m') return fail('literal value');
  const last = call.Args[6]?.Parts[0];
  if (!isNode(last, 'Lit') || last.Value !== 'é' || result.rawText(call.Args[6] as SyntaxNode) !== 'é') return fail('UTF-8');
  const backquoted = call.Args[4]?.Parts[0];
  if (!isNode(backquoted, 'CmdSubst') || !backquoted.Backquotes || backquoted.Stmts.length !== 1) return fail('backquotes');
  const redirects = pipe.X.Redirs.map((redirect) => `${redirect.N?.Value ?? ''}${redirect.Op}`);
  if (redirects.join(' ') !== '2>& >|') return fail(`redirects ${redirects.join(' ')}`);
  if (result.rawText(call.Args[1] as SyntaxNode) !== '"a$b"') return fail('source positions');
  const declaration = pipeline.Y.Cmd;
  if (!isNode(declaration, 'DeclClause') || declaration.Variant.Value !== 'export') return fail('declaration');
}
