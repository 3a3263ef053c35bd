/**
 * Walks a parsed shell script and lists every simple command it can run: in pipelines and lists,
 * in compound commands and function bodies, in command and process substitutions (also inside
 * words, assignments, redirections and here-documents), in the strings handed to shells, and
 * the commands wrappers run.
 *
 * Pipelines: every command belongs to one. A command inside a compound command that is itself
 * one element of a pipeline (`{ curl x; } | sh`) takes that element's place; a command that a
 * wrapper runs takes the wrapper's place (`curl x | sudo bash`: bash is at position 1 like
 * sudo); substitutions and shell strings start pipelines of their own.
 */
import { isShellInterpreter, shellInterpreterRuns } from './shell-interpreters.ts';
import type { CommandRun } from './command-runs.ts';
import type { ShellParser } from './mvdan-shell-parser.ts';
import type { ShellCommand, ShellRedirect } from './shell-command.ts';
import {
  childNodes,
  isNode,
  type Assign,
  type BinaryCmd,
  type CallExpr,
  type CmdSubst,
  type DeclClause,
  type LetClause,
  type ProcSubst,
  type Redirect,
  type ShellFile,
  type Stmt,
  type SyntaxNode,
  type TimeClause,
} from './syntax-tree.ts';
import { evaluateWord, literalWord, type CommandWord } from './word-literal.ts';
import { isWrapperCommand, wrapperRuns } from './wrapper-commands.ts';

export interface CollectorLimits {
  /** Shell strings within shell strings, wrappers within wrappers. */
  readonly maxNesting: number;
  /** Bytes parsed in total, the command and every shell string found in it. */
  readonly maxParsedBytes: number;
  readonly maxCommands: number;
}

/** Aborts the analysis: the command is reported with this parse_error and no commands. */
export class ShellAnalysisError extends Error {}

interface PipelineSlot {
  readonly pipeline: number;
  readonly pipeline_position: number;
  readonly pipeline_length: number;
}

interface Scope {
  readonly rawText: (node: SyntaxNode) => string;
  readonly via: string | null;
  readonly nesting: number;
}

const SUBSTITUTION_VIA = '$(…)';
/** The source text of a dynamic command name is kept only this long (nested ones repeat it). */
const MAX_DYNAMIC_TEXT = 256;

export class CommandCollector {
  readonly commands: ShellCommand[] = [];
  private nextPipeline = 0;
  private parsedBytes = 0;

  constructor(
    private readonly parser: ShellParser,
    private readonly limits: CollectorLimits,
  ) {}

  /** Parses and collects a script; throws ShellAnalysisError when it does not parse. */
  collectScript(source: string, via: string | null, nesting: number, errorContext: string | null): void {
    if (nesting > this.limits.maxNesting) throw new ShellAnalysisError('commands nest too deeply to analyse');
    this.parsedBytes += Buffer.byteLength(source, 'utf8');
    if (this.parsedBytes > this.limits.maxParsedBytes) throw new ShellAnalysisError('command strings too large to analyse');
    const result = this.parser.parse(source);
    if (!result.ok) throw new ShellAnalysisError(errorContext === null ? result.error : `${errorContext}: ${result.error}`);
    this.collectFile(result.file, { rawText: result.rawText, via, nesting });
  }

  private collectFile(file: ShellFile, scope: Scope): void {
    for (const statement of file.Stmts) this.statement(statement, scope, null, []);
  }

  private statement(statement: Stmt, scope: Scope, slot: PipelineSlot | null, inherited: ShellRedirect[]): void {
    const own = statement.Redirs.map((redirect) => describeRedirect(redirect));
    const redirects = [...own, ...inherited];
    const command = statement.Cmd;

    if (command === null) {
      // `> file` alone still truncates or creates the file.
      if (own.length > 0) this.push(syntheticCommand(slot ?? this.newSlot(1, 0), scope.via, redirects, false));
    } else if (isNode(command, 'BinaryCmd') && (command.Op === '|' || command.Op === '|&')) {
      const elements = [...pipelineElements(command.X), ...pipelineElements(command.Y)];
      const pipeline = this.nextPipeline++;
      elements.forEach((element, position) => {
        this.statement(element, scope, { pipeline, pipeline_position: position, pipeline_length: elements.length }, redirects);
      });
    } else if (isNode(command, 'BinaryCmd')) {
      this.statement(command.X, scope, slot, redirects);
      this.statement(command.Y, scope, slot, redirects);
    } else if (isNode(command, 'CallExpr')) {
      this.call(command, statement, scope, slot, redirects);
    } else if (isNode(command, 'DeclClause')) {
      const args = command.Args.map((assign) => assignmentArgument(assign));
      const name = command.Variant.Value;
      this.push({ name, path: name, args, dynamic_name: false, ...(slot ?? this.newSlot(1, 0)), via: scope.via, redirects });
      this.substitutionsIn(command, scope);
    } else if (isNode(command, 'LetClause')) {
      const args = command.Exprs.map((expression) => (hasExpansion(expression) ? null : scope.rawText(expression)));
      this.push({ name: 'let', path: 'let', args, dynamic_name: false, ...(slot ?? this.newSlot(1, 0)), via: scope.via, redirects });
      this.substitutionsIn(command, scope);
    } else if (isNode(command, 'TimeClause')) {
      const timeSlot = slot ?? this.newSlot(1, 0);
      const args = command.PosixFormat ? ['-p'] : [];
      this.push({ name: 'time', path: 'time', args, dynamic_name: false, ...timeSlot, via: scope.via, redirects });
      if (command.Stmt) this.statement(command.Stmt, { ...scope, via: 'time' }, timeSlot, redirects);
    } else {
      // if/while/until/for/select/case, { }, ( ), functions, [[ ]], (( )), coproc …
      this.compound(command, scope, slot, redirects);
    }

    for (const redirect of statement.Redirs) this.substitutionsIn(redirect, scope);
  }

  private compound(node: SyntaxNode, scope: Scope, slot: PipelineSlot | null, redirects: ShellRedirect[]): void {
    for (const child of childNodes(node)) {
      if (isNode(child, 'Stmt')) this.statement(child, scope, slot, redirects);
      else if (isSubstitution(child)) this.substitution(child, scope);
      else this.compound(child, scope, slot, redirects);
    }
  }

  /** Commands inside a word, assignment, redirection or expression: all in substitutions. */
  private substitutionsIn(node: SyntaxNode, scope: Scope): void {
    for (const child of childNodes(node)) {
      if (isSubstitution(child)) this.substitution(child, scope);
      else if (isNode(child, 'Stmt')) this.statement(child, scope, null, []);
      else this.substitutionsIn(child, scope);
    }
  }

  private substitution(node: CmdSubst | ProcSubst, scope: Scope): void {
    const via = isNode(node, 'ProcSubst') ? `${node.Op}…)` : SUBSTITUTION_VIA;
    for (const statement of node.Stmts) this.statement(statement, { ...scope, via }, null, []);
  }

  private call(call: CallExpr, statement: Stmt, scope: Scope, slot: PipelineSlot | null, redirects: ShellRedirect[]): void {
    if (call.Args.length === 0) {
      // Assignments alone are not commands; with a redirection they still touch a file.
      if (statement.Redirs.length > 0) this.push(syntheticCommand(slot ?? this.newSlot(1, 0), scope.via, redirects, false));
    } else {
      const words = call.Args.map((word): CommandWord => {
        const value = evaluateWord(word);
        return { ...value, raw: value.literal ?? abbreviate(scope.rawText(word)) };
      });
      this.command(words, slot ?? this.newSlot(1, 0), scope, scope.via, redirects, statement, scope.nesting);
    }
    for (const assign of call.Assigns) this.substitutionsIn(assign, scope);
    for (const word of call.Args) this.substitutionsIn(word, scope);
  }

  /** A simple command given as words, then whatever it runs in turn. */
  private command(
    words: readonly CommandWord[],
    slot: PipelineSlot,
    scope: Scope,
    via: string | null,
    redirects: ShellRedirect[],
    statement: Stmt | null,
    nesting: number,
  ): void {
    const first = words[0];
    if (!first) return;
    if (nesting > this.limits.maxNesting) throw new ShellAnalysisError('commands nest too deeply to analyse');
    const dynamic = first.literal === null;
    const path = first.literal ?? first.raw;
    const name = basename(path);
    const args = words.slice(1);
    this.push({ name, path, args: args.map((word) => word.literal), dynamic_name: dynamic, ...slot, via, redirects });
    if (dynamic) return;

    const runs = isShellInterpreter(name) ? shellInterpreterRuns(args) : isWrapperCommand(name) ? wrapperRuns(name, args) : [];
    for (const run of runs) this.follow(run, slot, scope, redirects, statement, nesting + 1);
  }

  private follow(run: CommandRun, slot: PipelineSlot, scope: Scope, redirects: ShellRedirect[], statement: Stmt | null, nesting: number): void {
    switch (run.kind) {
      case 'command':
        this.command(run.words, slot, scope, run.via, redirects, statement, nesting);
        return;
      case 'script':
        if (run.script === null) this.push({ ...syntheticCommand(this.newSlot(1, 0), run.via, [], true), args: [null] });
        else this.collectScript(run.script, run.via, nesting, `${run.via} string`);
        return;
      case 'split':
        this.followSplit(run.script, run.rest, slot, scope, redirects, statement, nesting, run.via);
        return;
      case 'stdin': {
        const script = statement ? standardInputScript(statement) : undefined;
        if (script === undefined) return;
        if (script === null) this.push({ ...syntheticCommand(this.newSlot(1, 0), run.via, [], true), args: [null] });
        else this.collectScript(script, run.via, nesting, `${run.via} input`);
        return;
      }
      case 'unknown':
        this.push({ ...syntheticCommand(slot, run.via, redirects, true), args: run.words.map((word) => word.literal) });
        return;
    }
  }

  /** env -S 'cmd args' more…: the string's words start the command when they are plain words. */
  private followSplit(
    script: string | null,
    rest: readonly CommandWord[],
    slot: PipelineSlot,
    scope: Scope,
    redirects: ShellRedirect[],
    statement: Stmt | null,
    nesting: number,
    via: string,
  ): void {
    const words = script === null ? null : this.plainWords(script);
    const combined = words === null ? null : [...words.map((word) => literalWord(word)), ...rest];
    // Options or assignments at the start of the string go back to env itself: not modelled.
    const head = combined?.[0]?.literal;
    if (combined === null || head === undefined || head === null || head.startsWith('-') || head.includes('=')) {
      this.push({ ...syntheticCommand(slot, via, redirects, true), args: [script, ...rest.map((word) => word.literal)] });
      return;
    }
    this.command(combined, slot, scope, via, redirects, statement, nesting);
  }

  /** The words of a string that is one simple command of literal words, else null. */
  private plainWords(script: string): string[] | null {
    this.parsedBytes += Buffer.byteLength(script, 'utf8');
    if (this.parsedBytes > this.limits.maxParsedBytes) throw new ShellAnalysisError('command strings too large to analyse');
    const result = this.parser.parse(script);
    if (!result.ok) return null;
    const [only, ...others] = result.file.Stmts;
    if (!only || others.length > 0 || only.Redirs.length > 0 || !isNode(only.Cmd, 'CallExpr')) return null;
    if (only.Cmd.Assigns.length > 0) return null;
    const literals = only.Cmd.Args.map((word) => evaluateWord(word).literal);
    return literals.every((literal): literal is string => literal !== null) ? literals : null;
  }

  private newSlot(length: number, position: number): PipelineSlot {
    return { pipeline: this.nextPipeline++, pipeline_position: position, pipeline_length: length };
  }

  private push(command: ShellCommand): void {
    if (this.commands.length >= this.limits.maxCommands) {
      throw new ShellAnalysisError(`more than ${this.limits.maxCommands} commands`);
    }
    this.commands.push(command);
  }
}

/** The statements of a pipeline, left to right (a | b | c nests as binary commands). */
function pipelineElements(statement: Stmt): Stmt[] {
  const command = statement.Cmd;
  if (statement.Redirs.length === 0 && isNode(command, 'BinaryCmd') && (command.Op === '|' || command.Op === '|&')) {
    return [...pipelineElements(command.X), ...pipelineElements(command.Y)];
  }
  return [statement];
}

function isSubstitution(node: SyntaxNode): node is CmdSubst | ProcSubst {
  return node.type === 'CmdSubst' || node.type === 'ProcSubst';
}

function hasExpansion(node: SyntaxNode): boolean {
  if (node.type === 'ParamExp' || isSubstitution(node)) return true;
  for (const child of childNodes(node)) if (hasExpansion(child)) return true;
  return false;
}

function describeRedirect(redirect: Redirect): ShellRedirect {
  const op = `${redirect.N?.Value ?? ''}${redirect.Op}`;
  return { op, target: redirect.Word ? evaluateWord(redirect.Word).literal : null };
}

/**
 * The script a shell reads from a here-string or here-document on its own statement: undefined
 * when there is none (it reads a pipe or a file), null when its text is dynamic.
 */
function standardInputScript(statement: Stmt): string | null | undefined {
  let script: string | null | undefined;
  for (const redirect of statement.Redirs) {
    if (redirect.N !== null && redirect.N.Value !== '0') continue;
    if (redirect.Op === '<<<' && redirect.Word) {
      script = evaluateWord(redirect.Word).literal;
    } else if ((redirect.Op === '<<' || redirect.Op === '<<-') && redirect.Hdoc) {
      const delimiterQuoted = redirect.Word ? evaluateWord(redirect.Word).quoted : false;
      script = evaluateWord(redirect.Hdoc, delimiterQuoted ? 'verbatim' : 'heredoc').literal;
    } else if (redirect.Op === '<' || redirect.Op === '<>' || redirect.Op === '<&') {
      // A later redirection of standard input replaces an earlier one.
      script = undefined;
    }
  }
  return script;
}

function assignmentArgument(assign: Assign): string | null {
  if (assign.Naked) {
    if (assign.Value) return evaluateWord(assign.Value).literal;
    return assign.Name?.Value ?? null;
  }
  if (assign.Array || assign.Index || !assign.Name) return null;
  const value = assign.Value ? evaluateWord(assign.Value).literal : '';
  return value === null ? null : `${assign.Name.Value}${assign.Append ? '+=' : '='}${value}`;
}

function syntheticCommand(slot: PipelineSlot, via: string | null, redirects: ShellRedirect[], dynamic: boolean): ShellCommand {
  return { name: '', path: '', args: [], dynamic_name: dynamic, ...slot, via, redirects };
}

function abbreviate(text: string): string {
  return text.length <= MAX_DYNAMIC_TEXT ? text : `${text.slice(0, MAX_DYNAMIC_TEXT)}…`;
}

function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? path : path.slice(slash + 1);
}

