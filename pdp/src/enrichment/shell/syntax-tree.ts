/**
 * The shell syntax tree as plain objects: mvdan/sh's node types and field names, with strings
 * decoded, operators spelled out and absent nodes as null. Only the nodes and fields the analyzer
 * reads are typed; every other node still carries its children, so a generic walk finds the
 * commands inside constructs that are not modelled one by one.
 */

export interface SyntaxNode {
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface ShellFile extends SyntaxNode {
  readonly type: 'File';
  readonly Stmts: Stmt[];
}

export interface Stmt extends SyntaxNode {
  readonly type: 'Stmt';
  readonly Cmd: SyntaxNode | null;
  readonly Redirs: Redirect[];
}

export interface Redirect extends SyntaxNode {
  readonly type: 'Redirect';
  /** ">", ">>", "<", "<>", ">&", "<&", ">|", "<<", "<<-", "<<<", "&>", "&>>". */
  readonly Op: string;
  /** The file descriptor written before the operator (2 in 2>), or null. */
  readonly N: Lit | null;
  readonly Word: Word | null;
  /** A here-document's body. */
  readonly Hdoc: Word | null;
}

export interface CallExpr extends SyntaxNode {
  readonly type: 'CallExpr';
  readonly Assigns: Assign[];
  readonly Args: Word[];
}

export interface BinaryCmd extends SyntaxNode {
  readonly type: 'BinaryCmd';
  /** "|", "|&", "&&" or "||". */
  readonly Op: string;
  readonly X: Stmt;
  readonly Y: Stmt;
}

export interface DeclClause extends SyntaxNode {
  readonly type: 'DeclClause';
  readonly Variant: Lit;
  readonly Args: Assign[];
}

export interface LetClause extends SyntaxNode {
  readonly type: 'LetClause';
  readonly Exprs: SyntaxNode[];
}

export interface TimeClause extends SyntaxNode {
  readonly type: 'TimeClause';
  readonly PosixFormat: boolean;
  readonly Stmt: Stmt | null;
}

export interface Assign extends SyntaxNode {
  readonly type: 'Assign';
  readonly Append: boolean;
  /** A declare/export argument without "=": a flag (Value) or a bare name (Name). */
  readonly Naked: boolean;
  readonly Name: Lit | null;
  readonly Index: SyntaxNode | null;
  readonly Value: Word | null;
  readonly Array: SyntaxNode | null;
}

export interface Word extends SyntaxNode {
  readonly type: 'Word';
  readonly Parts: SyntaxNode[];
}

export interface Lit extends SyntaxNode {
  readonly type: 'Lit';
  /** As written: backslashes are still in it. */
  readonly Value: string;
}

export interface SglQuoted extends SyntaxNode {
  readonly type: 'SglQuoted';
  /** $'…' (ANSI-C escapes) rather than '…'. */
  readonly Dollar: boolean;
  readonly Value: string;
}

export interface DblQuoted extends SyntaxNode {
  readonly type: 'DblQuoted';
  readonly Parts: SyntaxNode[];
}

export interface CmdSubst extends SyntaxNode {
  readonly type: 'CmdSubst';
  readonly Stmts: Stmt[];
  readonly Backquotes: boolean;
}

export interface ProcSubst extends SyntaxNode {
  readonly type: 'ProcSubst';
  /** "<(" or ">(". */
  readonly Op: string;
  readonly Stmts: Stmt[];
}

/** The modelled node types by name. */
interface ModelledNodes {
  File: ShellFile;
  Stmt: Stmt;
  Redirect: Redirect;
  CallExpr: CallExpr;
  BinaryCmd: BinaryCmd;
  DeclClause: DeclClause;
  LetClause: LetClause;
  TimeClause: TimeClause;
  Assign: Assign;
  Word: Word;
  Lit: Lit;
  SglQuoted: SglQuoted;
  DblQuoted: DblQuoted;
  CmdSubst: CmdSubst;
  ProcSubst: ProcSubst;
}

export function isNode<K extends keyof ModelledNodes>(value: unknown, type: K): value is ModelledNodes[K] {
  return typeof value === 'object' && value !== null && (value as SyntaxNode).type === type;
}

export function isSyntaxNode(value: unknown): value is SyntaxNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as SyntaxNode).type === 'string';
}

/** The direct child nodes of a node, in field order. */
export function* childNodes(node: SyntaxNode): Generator<SyntaxNode> {
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) {
      for (const item of value) if (isSyntaxNode(item)) yield item;
    } else if (isSyntaxNode(value)) {
      yield value;
    }
  }
}
