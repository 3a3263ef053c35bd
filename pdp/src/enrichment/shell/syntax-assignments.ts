/**
 * Assignments that are syntax rather than commands, anywhere in a parsed script: `${X=…}` and
 * `${X:=…}`, arithmetic assignment and increments (`((X=1))`, `$((X+=1))`, `let X++`, array
 * subscripts, C-style for), and the variable of `for X in …` / `select X in …`. Prefix and bare
 * assignments and declaration clauses are read where their statements are (command-collector).
 */
import { draft, type EnvironmentDraft, VARIABLE_NAME } from './environment-change.ts';
import { ARITHMETIC_ASSIGN_OPERATORS, ARITHMETIC_STEP_OPERATORS, ASSIGNING_EXPANSION_OPERATORS } from './mvdan-shell-parser.ts';
import { isNode, isSyntaxNode, type SyntaxNode } from './syntax-tree.ts';
import { evaluateWord } from './word-literal.ts';

/** Where bash evaluates text as arithmetic, so a variable's value may itself assign (x='PATH=5'; ((x))). */
const ARITHMETIC_CONTEXTS = new Set(['ArithmExp', 'ArithmCmd', 'LetClause', 'CStyleLoop', 'TestClause']);

/** Whether the script evaluates anything as arithmetic: $((…)), ((…)), let, C-style for, [[ … -eq … ]], a subscript. */
export function evaluatesArithmetic(root: SyntaxNode): boolean {
  const pending: SyntaxNode[] = [root];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (ARITHMETIC_CONTEXTS.has(node.type)) return true;
    if ((node.type === 'ParamExp' || node.type === 'Assign') && node.Index) return true;
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) {
        for (const item of value) if (isSyntaxNode(item)) pending.push(item);
      } else if (isSyntaxNode(value)) pending.push(value);
    }
  }
  return false;
}

const ARITHMETIC_ASSIGNMENT_TEXT = /([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[[^\]]*\])?\s*(?:[-+*/%&|^]|<<|>>)?=(?!=)|(?:\+\+|--)\s*([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*)\s*(?:\+\+|--)/g;

/** The variables an arithmetic expression given as text assigns (let "X=1", a value evaluated later). */
export function arithmeticTextAssignments(text: string): EnvironmentDraft[] {
  return [...text.matchAll(ARITHMETIC_ASSIGNMENT_TEXT)].map((match) => draft(match[1] ?? match[2] ?? match[3] ?? null, 'arithmetic'));
}

export function syntaxAssignments(root: SyntaxNode): EnvironmentDraft[] {
  const found: EnvironmentDraft[] = [];
  // An explicit stack, not a generator per node: this walk runs on every command decided.
  const pending: SyntaxNode[] = [root];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (ASSIGNING_NODES.has(node.type)) {
      const change = assignmentAt(node);
      if (change) found.push(change);
    }
    const children: SyntaxNode[] = [];
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) {
        for (const item of value) if (isSyntaxNode(item)) children.push(item);
      } else if (isSyntaxNode(value)) children.push(value);
    }
    // Reversed onto the stack, so changes come out in source order.
    for (let index = children.length - 1; index >= 0; index--) pending.push(children[index] as SyntaxNode);
  }
  return found;
}

const ASSIGNING_NODES = new Set(['ParamExp', 'BinaryArithm', 'UnaryArithm', 'WordIter']);

function assignmentAt(node: SyntaxNode): EnvironmentDraft | undefined {
  switch (node.type) {
    case 'ParamExp': {
      const expansion = node.Exp as SyntaxNode | null;
      if (!expansion || !ASSIGNING_EXPANSION_OPERATORS.includes(String(expansion.Op))) return undefined;
      const word = expansion.Word as SyntaxNode | null;
      const value = isNode(word, 'Word') ? evaluateWord(word).literal : '';
      return draft(parameterName(node.Param), 'expansion', { value });
    }
    case 'BinaryArithm':
      if (!ARITHMETIC_ASSIGN_OPERATORS.includes(String(node.Op))) return undefined;
      return draft(arithmeticTarget(node.X), 'arithmetic', { append: node.Op !== '=' });
    case 'UnaryArithm':
      if (!ARITHMETIC_STEP_OPERATORS.includes(String(node.Op))) return undefined;
      return draft(arithmeticTarget(node.X), 'arithmetic', { append: true });
    case 'WordIter':
      return draft(parameterName(node.Name), 'for');
    default:
      return undefined;
  }
}

function parameterName(node: unknown): string | null {
  return isNode(node, 'Lit') && VARIABLE_NAME.test(node.Value) ? node.Value : null;
}

/** The variable an arithmetic assignment writes: X or X[i]; null when its name is computed ($x=1). */
function arithmeticTarget(node: unknown): string | null {
  if (!isNode(node, 'Word')) return null;
  const text = evaluateWord(node).literal;
  if (text === null) return null;
  const name = text.replace(/\[[\s\S]*\]$/, '');
  return VARIABLE_NAME.test(name) ? name : null;
}
