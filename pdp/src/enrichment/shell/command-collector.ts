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
import { builtinCodeRuns, isCodeKeepingBuiltin } from './builtin-code.ts';
import { isShellInterpreter, shellInterpreterRuns } from './shell-interpreters.ts';
import type { CommandRun } from './command-runs.ts';
import {
  builtinChanges,
  declarationChanges,
  draft,
  VARIABLE_NAME,
  type DeclarationItem,
  type EnvironmentChange,
  type EnvironmentDraft,
} from './environment-change.ts';
import type { ShellParser } from './mvdan-shell-parser.ts';
import type { ShellCommand, ShellRedirect } from './shell-command.ts';
import {
  childNodes,
  isNode,
  type Assign,
  type CallExpr,
  type CmdSubst,
  type ProcSubst,
  type Redirect,
  type Stmt,
  type SyntaxNode,
  type Word,
} from './syntax-tree.ts';
import { evaluateWord, literalWord, type CommandWord } from './word-literal.ts';
import { arithmeticTextAssignments, evaluatesArithmetic, syntaxAssignments } from './syntax-assignments.ts';
import { EVALUATED_TEXT_VIA, EvaluatedText } from './evaluated-text.ts';
import { isWrapperCommand, wrapperEnvironment, wrapperRuns } from './wrapper-commands.ts';

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

/** Which script is being read: its source text, and how it was reached. */
interface Scope {
  readonly rawText: (node: SyntaxNode) => string;
  readonly via: string | null;
  readonly nesting: number;
}

/** What a statement gets from the statements around it. */
interface Surroundings {
  /** Its place in an enclosing pipeline, when it is (inside) one element of it. */
  readonly slot: PipelineSlot | null;
  /** Redirections of enclosing compound commands. */
  readonly redirects: readonly ShellRedirect[];
  /** The statements whose standard-input redirections apply to it, innermost first. */
  readonly input: readonly Stmt[];
}

/** Where a simple command runs. */
interface Site {
  readonly slot: PipelineSlot;
  readonly redirects: readonly ShellRedirect[];
  readonly input: readonly Stmt[];
}

const TOP_LEVEL: Surroundings = { slot: null, redirects: [], input: [] };
const SUBSTITUTION_VIA = '$(…)';
/** The source text of a dynamic command name is kept only this long (nested ones repeat it). */
const MAX_DYNAMIC_TEXT = 256;

export class CommandCollector {
  readonly commands: ShellCommand[] = [];
  /** Every variable the text sets, exports or removes (environment-change.ts). */
  readonly environment: EnvironmentChange[] = [];
  /** Some script evaluates arithmetic (or declares an integer variable): assigned values may assign in turn. */
  private arithmetic = false;
  /** Text bash evaluates again at run time (arithmetic, names, prompts): evaluated-text.ts. */
  private readonly evaluated = new EvaluatedText();
  private nextPipeline = 0;
  private parsedBytes = 0;

  constructor(
    private readonly parser: ShellParser,
    private readonly limits: CollectorLimits,
  ) {}

  /** Parses and collects a script; throws ShellAnalysisError when it does not parse. */
  collectScript(source: string, via: string | null, nesting: number, errorContext: string | null, input: readonly Stmt[] = []): void {
    if (nesting > this.limits.maxNesting) throw new ShellAnalysisError('commands nest too deeply to analyse');
    this.chargeParse(source);
    const result = this.parser.parse(source);
    if (!result.ok) throw new ShellAnalysisError(errorContext === null ? result.error : `${errorContext}: ${result.error}`);
    const scope: Scope = { rawText: result.rawText, via, nesting };
    for (const change of syntaxAssignments(result.file)) this.change(change, via);
    if (!this.arithmetic && evaluatesArithmetic(result.file)) this.arithmetic = true;
    this.evaluated.inSyntax(result.file, result.rawText);
    for (const statement of result.file.Stmts) this.statement(statement, scope, { ...TOP_LEVEL, input });
  }

  /** Code bash would find in text it evaluates again (evaluated-text.ts): one dynamic entry per text, via "arithmetic". */
  private evaluatedCode(): void {
    // Variables first: resolving them can add texts.
    const variables = this.evaluated.unsoundVariables(this.environment).map((name) => `$${name}`);
    const texts = new Set([...this.evaluated.code, ...variables]);
    for (const text of texts) {
      const site: Site = { slot: this.newSlot(), redirects: [], input: [] };
      this.push({ ...blankCommand(site, EVALUATED_TEXT_VIA, true), path: abbreviate(text), args: [abbreviate(text)] });
    }
  }

  private statement(statement: Stmt, scope: Scope, around: Surroundings): void {
    const own = statement.Redirs.map((redirect) => describeRedirect(redirect));
    const inner: Surroundings = { slot: around.slot, redirects: [...own, ...around.redirects], input: [statement, ...around.input] };
    const site = (): Site => ({ slot: around.slot ?? this.newSlot(), redirects: inner.redirects, input: inner.input });
    const command = statement.Cmd;

    if (command === null) {
      // `> file` alone still truncates or creates the file.
      if (own.length > 0) this.push(blankCommand(site(), scope.via, false));
    } else if (isNode(command, 'BinaryCmd') && (command.Op === '|' || command.Op === '|&')) {
      const elements = [...pipelineElements(command.X), ...pipelineElements(command.Y)];
      const pipeline = this.nextPipeline++;
      elements.forEach((element, position) => {
        const slot = { pipeline, pipeline_position: position, pipeline_length: elements.length };
        // Past the first element, standard input is the pipe.
        this.statement(element, scope, { slot, redirects: inner.redirects, input: position === 0 ? inner.input : [] });
      });
    } else if (isNode(command, 'BinaryCmd')) {
      this.statement(command.X, scope, inner);
      this.statement(command.Y, scope, inner);
    } else if (isNode(command, 'CallExpr')) {
      this.call(command, statement, scope, site, around);
    } else if (isNode(command, 'DeclClause')) {
      const name = command.Variant.Value;
      const args = command.Args.map((assign) => assignmentArgument(assign));
      this.push({ ...blankCommand(site(), scope.via, false), name, path: name, args });
      const items = command.Args.map(declarationItem);
      if (items.some((item) => item.kind === 'flags' && item.letters.includes('i'))) this.arithmetic = true;
      for (const change of declarationChanges(name, items)) this.change(change, scope.via);
      this.substitutionsIn(command, scope, around);
    } else if (isNode(command, 'LetClause')) {
      const args = command.Exprs.map((expression) => (hasExpansion(expression) ? null : scope.rawText(expression)));
      this.push({ ...blankCommand(site(), scope.via, false), name: 'let', path: 'let', args });
      // A quoted expression is a string to mvdan, arithmetic to let: let "X=1".
      for (const expression of command.Exprs) if (isNode(expression, 'Word')) for (const change of quotedArithmeticAssignments(expression)) this.change(change, scope.via);
      this.substitutionsIn(command, scope, around);
    } else if (isNode(command, 'TimeClause')) {
      const timeSite = site();
      this.push({ ...blankCommand(timeSite, scope.via, false), name: 'time', path: 'time', args: command.PosixFormat ? ['-p'] : [] });
      if (command.Stmt) this.statement(command.Stmt, { ...scope, via: 'time' }, { ...inner, slot: timeSite.slot });
    } else {
      // if/while/until/for/select/case, { }, ( ), functions, [[ ]], (( )), coproc …
      this.compound(command, scope, inner);
    }

    // Expansions in a statement's own words run before its redirections, in the shell's context.
    for (const redirect of statement.Redirs) this.substitutionsIn(redirect, scope, around);
  }

  private compound(node: SyntaxNode, scope: Scope, around: Surroundings): void {
    for (const child of childNodes(node)) {
      if (isNode(child, 'Stmt')) this.statement(child, scope, around);
      else if (isSubstitution(child)) this.substitution(child, scope, around);
      else this.compound(child, scope, around);
    }
  }

  /** Commands inside a word, assignment, redirection or expression: all in substitutions. */
  private substitutionsIn(node: SyntaxNode, scope: Scope, around: Surroundings): void {
    for (const child of childNodes(node)) {
      if (isSubstitution(child)) this.substitution(child, scope, around);
      else if (isNode(child, 'Stmt')) this.statement(child, scope, { ...TOP_LEVEL, input: around.input });
      else this.substitutionsIn(child, scope, around);
    }
  }

  /** A substitution's commands start their own pipelines; they share the shell's standard input. */
  private substitution(node: CmdSubst | ProcSubst, scope: Scope, around: Surroundings): void {
    const via = isNode(node, 'ProcSubst') ? `${node.Op}…)` : SUBSTITUTION_VIA;
    for (const statement of node.Stmts) this.statement(statement, { ...scope, via }, { ...TOP_LEVEL, input: around.input });
  }

  private call(call: CallExpr, statement: Stmt, scope: Scope, site: () => Site, around: Surroundings): void {
    // Before a command they are its environment; alone they set shell variables (exported ones too).
    const exported = call.Args.length > 0;
    for (const assign of call.Assigns) {
      const value = assign.Array || assign.Index || !assign.Value ? (assign.Array || assign.Index ? null : '') : evaluateWord(assign.Value).literal;
      this.change(draft(assign.Name?.Value ?? null, exported ? 'prefix' : 'assignment', { value, exported, append: assign.Append }), scope.via);
    }
    if (call.Args.length === 0) {
      // Assignments alone are not commands; with a redirection they still touch a file.
      if (statement.Redirs.length > 0) this.push(blankCommand(site(), scope.via, false));
    } else {
      const words = call.Args.map((word): CommandWord => {
        const value = evaluateWord(word);
        return { ...value, raw: value.literal ?? abbreviate(scope.rawText(word)) };
      });
      this.command(words, site(), scope.via, scope.nesting);
    }
    for (const assign of call.Assigns) this.substitutionsIn(assign, scope, around);
    for (const word of call.Args) this.substitutionsIn(word, scope, around);
  }

  /** A simple command given as words, then whatever it runs in turn. */
  private command(words: readonly CommandWord[], site: Site, via: string | null, nesting: number): void {
    const first = words[0];
    if (!first) return;
    if (nesting > this.limits.maxNesting) throw new ShellAnalysisError('commands nest too deeply to analyse');
    const dynamic = first.literal === null;
    const path = first.literal ?? first.raw;
    const name = basename(path);
    const args = words.slice(1);
    this.push({ ...blankCommand(site, via, dynamic), name, path, args: args.map((word) => word.literal) });
    if (dynamic) return;
    this.evaluated.inCommand(name, args);
    for (const change of [...builtinChanges(name, args), ...wrapperEnvironment(name, args)]) this.change(change, via);

    const runs = isShellInterpreter(name)
      ? shellInterpreterRuns(args)
      : isWrapperCommand(name)
        ? wrapperRuns(name, args)
        : isCodeKeepingBuiltin(name)
          ? builtinCodeRuns(name, args)
          : [];
    for (const run of runs) this.follow(run, site, nesting + 1);
  }

  private follow(run: CommandRun, site: Site, nesting: number): void {
    switch (run.kind) {
      case 'command':
        this.command(run.words, site, run.via, nesting);
        return;
      case 'script':
        if (run.script === null) this.push({ ...blankCommand({ ...site, slot: this.newSlot(), redirects: [] }, run.via, true), args: [null] });
        else this.collectScript(run.script, run.via, nesting, `${run.via} string`, site.input);
        return;
      case 'split':
        this.followSplit(run.script, run.rest, site, nesting, run.via);
        return;
      case 'stdin': {
        const input = standardInput(site.input);
        if (input === undefined) return;
        if (input === null) this.push({ ...blankCommand({ ...site, slot: this.newSlot(), redirects: [] }, run.via, true), args: [null] });
        // The script consumes standard input itself: nothing is left for what it runs.
        else this.collectScript(input, run.via, nesting, `${run.via} input`);
        return;
      }
      case 'unknown':
        this.push({ ...blankCommand(site, run.via, true), args: run.words.map((word) => word.literal) });
        return;
    }
  }

  /** env -S 'cmd args' more…: the string's words start the command when they are plain words. */
  private followSplit(script: string | null, rest: readonly CommandWord[], site: Site, nesting: number, via: string): void {
    const words = script === null ? null : this.plainWords(script);
    const combined = words === null ? null : [...words.map((word) => literalWord(word)), ...rest];
    // Options or assignments at the start of the string go back to env itself: not modelled.
    const head = combined?.[0]?.literal;
    if (combined === null || head === undefined || head === null || head.startsWith('-') || head.includes('=')) {
      this.push({ ...blankCommand(site, via, true), args: [script, ...rest.map((word) => word.literal)] });
      return;
    }
    this.command(combined, site, via, nesting);
  }

  /** The words of a string that is one simple command of literal words, else null. */
  private plainWords(script: string): string[] | null {
    this.chargeParse(script);
    const result = this.parser.parse(script);
    if (!result.ok) return null;
    const [only, ...others] = result.file.Stmts;
    if (!only || others.length > 0 || only.Redirs.length > 0 || !isNode(only.Cmd, 'CallExpr')) return null;
    if (only.Cmd.Assigns.length > 0) return null;
    const literals = only.Cmd.Args.map((word) => evaluateWord(word).literal);
    return literals.every((literal): literal is string => literal !== null) ? literals : null;
  }

  /**
   * * Ends the analysis. Bash evaluates a variable's value as an expression where it is used in
   * arithmetic (x='PATH=5'; ((x)), declare -i n; n='IFS=7'), so when any script does arithmetic,
   * every value assigned in the text is read for the variables it would assign (integers only).
   * Then the text bash evaluates again that may hold code becomes dynamic entries.
   */
  finish(): void {
    if (this.arithmetic) {
      for (const change of [...this.environment]) {
        if (change.value !== null) for (const inner of arithmeticTextAssignments(change.value)) this.change(inner, change.via);
      }
    }
    this.evaluatedCode();
  }

  private change(change: EnvironmentDraft, via: string | null): void {
    if (this.environment.length >= this.limits.maxCommands) throw new ShellAnalysisError(`more than ${this.limits.maxCommands} variable changes`);
    this.environment.push({ ...change, via });
  }

  private chargeParse(source: string): void {
    this.parsedBytes += Buffer.byteLength(source, 'utf8');
    if (this.parsedBytes > this.limits.maxParsedBytes) throw new ShellAnalysisError('command strings too large to analyse');
  }

  private newSlot(): PipelineSlot {
    return { pipeline: this.nextPipeline++, pipeline_position: 0, pipeline_length: 1 };
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
 * The script a shell reads on standard input from the innermost statement that redirects it:
 * undefined when that is not a here-string or here-document (a pipe, a file, the terminal),
 * null when its text is dynamic.
 */
function standardInput(statements: readonly Stmt[]): string | null | undefined {
  for (const statement of statements) {
    let input: { script: string | null } | 'elsewhere' | undefined;
    for (const redirect of statement.Redirs) {
      if (redirect.N !== null && redirect.N.Value !== '0') continue;
      if (redirect.Op === '<<<' && redirect.Word) {
        input = { script: evaluateWord(redirect.Word).literal };
      } else if ((redirect.Op === '<<' || redirect.Op === '<<-') && redirect.Hdoc) {
        const delimiterQuoted = redirect.Word ? evaluateWord(redirect.Word).quoted : false;
        input = { script: evaluateWord(redirect.Hdoc, delimiterQuoted ? 'verbatim' : 'heredoc').literal };
      } else if (redirect.Op === '<' || redirect.Op === '<>' || redirect.Op === '<&') {
        // The last redirection of standard input wins.
        input = 'elsewhere';
      }
    }
    if (input === 'elsewhere') return undefined;
    if (input !== undefined) return input.script;
  }
  return undefined;
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

function declarationItem(assign: Assign): DeclarationItem {
  if (assign.Naked) {
    if (assign.Name) return { kind: 'name', name: assign.Name.Value };
    const text = assign.Value ? evaluateWord(assign.Value).literal : null;
    if (text !== null && /^[-+][A-Za-z]+$/.test(text)) return { kind: 'flags', sign: text[0] as '-' | '+', letters: text.slice(1) };
    if (text === '--') return { kind: 'flags', sign: '-', letters: '' };
    // "NAME=VALUE" quoted whole still assigns; anything dynamic may name any variable.
    const match = text === null ? null : /^([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?(\+?)=([\s\S]*)$/.exec(text);
    if (match) return { kind: 'assign', name: match[1] ?? null, value: match[2] ? null : (match[4] ?? ''), append: match[3] === '+' };
    return { kind: 'name', name: text !== null && VARIABLE_NAME.test(text) ? text : null };
  }
  const value = assign.Array || assign.Index || !assign.Value ? (assign.Array || assign.Index ? null : '') : evaluateWord(assign.Value).literal;
  return { kind: 'assign', name: assign.Name?.Value ?? null, value, append: assign.Append };
}

/** The variables a quoted arithmetic expression assigns (let "X=1"); one unnamed change when it is dynamic. */
function quotedArithmeticAssignments(word: Word): EnvironmentDraft[] {
  const text = evaluateWord(word).literal;
  return text === null ? [draft(null, 'arithmetic')] : arithmeticTextAssignments(text);
}

/** A command entry at a site with no name or words yet (as it stays for synthetic entries). */
function blankCommand(site: Site, via: string | null, dynamic: boolean): ShellCommand {
  return { name: '', path: '', args: [], dynamic_name: dynamic, ...site.slot, via, redirects: [...site.redirects] };
}

function abbreviate(text: string): string {
  return text.length <= MAX_DYNAMIC_TEXT ? text : `${text.slice(0, MAX_DYNAMIC_TEXT)}…`;
}

function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? path : path.slice(slash + 1);
}

