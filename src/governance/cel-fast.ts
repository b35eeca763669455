import type { NodeSnapshot } from '../types.js';

// The library interprets its tree on every evaluation, which costs about 7× a TypeScript rule
// (docs/benchmarks.md). Most policy expressions are field reads, `has`, comparisons and logic:
// those are compiled here, from the library's type-checked tree, to closures over the
// snapshot itself. Anything else returns undefined and the library evaluates it, so this is
// only ever a faster route to the library's answers (test/policy-cel.test.ts checks both agree).

/** The part of the library's checked tree this reads. */
interface Ast {
  readonly op: string;
  readonly args: unknown;
  readonly pos: number;
}

type Type = 'Node' | 'map<string, double>' | 'map<string, string>' | 'double' | 'string' | 'bool';
type Fn = (node: NodeSnapshot) => unknown;
interface Compiled {
  readonly fn: Fn;
  readonly type: Type | 'int' | 'list<string>';
  /** A literal's value (an int's as a double, when it is exact). */
  readonly constant?: unknown;
  /** Set when this is `node` itself, or `node.<field>`: reads then skip a closure call. */
  readonly root?: true;
  readonly field?: keyof NodeSnapshot;
}

const fieldTypes: Readonly<Record<string, Type>> = {
  id: 'string',
  labels: 'map<string, string>',
  version: 'string',
  load: 'double',
  metrics: 'map<string, double>',
  suspicion: 'double',
  trust: 'double',
  state: 'string',
};

// Thrown out of the closures, so the rule's result is `error` with the library's wording.
function noSuchKey(key: string, ast: Ast): never {
  throw new Error(`No such key: ${key} (column ${ast.pos + 1})`);
}

const { hasOwn } = Object;

/** @internal The closure for a checked boolean expression, or undefined outside the subset. */
export function fastProgram(ast: unknown): Fn | undefined {
  const compiled = compile(ast as Ast);
  return compiled?.type === 'bool' ? compiled.fn : undefined;
}

function compile(ast: Ast): Compiled | undefined {
  const arg = (i: number) => (ast.args as Ast[])[i] as Ast;
  switch (ast.op) {
    case 'value':
      return literal(ast.args);
    case 'id':
      return ast.args === 'node' ? { fn: (n) => n, type: 'Node', root: true } : undefined;
    case '.':
      return access(ast, compile(arg(0)), arg(1), undefined);
    case '[]': {
      const key = compile(arg(1));
      return key?.type === 'string' ? access(ast, compile(arg(0)), undefined, key.fn) : undefined;
    }
    case 'call':
      return (arg(0) as unknown) === 'has' && (arg(1) as unknown as Ast[]).length === 1
        ? has((arg(1) as unknown as Ast[])[0] as Ast)
        : undefined;
    case '!_': {
      const operand = compile(ast.args as Ast);
      if (operand?.type !== 'bool') return undefined;
      const f = operand.fn;
      return { fn: (n) => !f(n), type: 'bool' };
    }
    case '-_': {
      const operand = compile(ast.args as Ast);
      if (operand?.type !== 'double') return undefined;
      const f = operand.fn;
      return { fn: (n) => -(f(n) as number), type: 'double' };
    }
    case '&&':
    case '||':
      return logic(ast.op, compile(arg(0)), compile(arg(1)));
    case '?:': {
      const [test, yes, no] = (ast.args as Ast[]).map(compile);
      if (test?.type !== 'bool' || yes === undefined || no === undefined) return undefined;
      if (yes.type !== no.type || yes.type === 'int') return undefined;
      const [t, y, f] = [test.fn, yes.fn, no.fn];
      return { fn: (n) => (t(n) ? y(n) : f(n)), type: yes.type };
    }
    case 'in':
      return membership(compile(arg(0)), compile(arg(1)));
    case 'list': {
      const items = (ast.args as Ast[]).map(compile);
      if (!items.every((item) => item?.type === 'string' && 'constant' in item)) return undefined;
      const values = items.map((item) => item?.constant);
      return { fn: () => values, type: 'list<string>' };
    }
    case '<':
    case '<=':
    case '>':
    case '>=':
    case '==':
    case '!=':
      return compare(ast.op, compile(arg(0)), compile(arg(1)));
    default:
      return undefined;
  }
}

function literal(value: unknown): Compiled | undefined {
  switch (typeof value) {
    case 'number':
      return { fn: () => value, type: 'double', constant: value };
    case 'string':
      return { fn: () => value, type: 'string', constant: value };
    case 'boolean':
      return { fn: () => value, type: 'bool', constant: value };
    case 'bigint': {
      // Compared with a double, an int compares as its numeric value: exact up to 2^53.
      const exact = Number(value);
      if (!Number.isSafeInteger(exact)) return undefined;
      return { fn: () => exact, type: 'int', constant: exact };
    }
    default:
      return undefined;
  }
}

function access(
  ast: Ast,
  target: Compiled | undefined,
  name: unknown,
  key: Fn | undefined,
): Compiled | undefined {
  if (target === undefined) return undefined;
  const t = target.fn;
  if (target.type === 'Node' && typeof name === 'string' && hasOwn(fieldTypes, name)) {
    const field = name as keyof NodeSnapshot;
    const fn: Fn = (n) => {
      const value = (t(n) as NodeSnapshot)[field];
      return value === undefined ? noSuchKey(field, ast) : value;
    };
    const direct: Fn = (n) => {
      const value = n[field];
      return value === undefined ? noSuchKey(field, ast) : value;
    };
    if (target.root) return { fn: direct, type: fieldTypes[name] as Type, field };
    return { fn, type: fieldTypes[name] as Type };
  }
  if (target.type !== 'map<string, double>' && target.type !== 'map<string, string>') {
    return undefined;
  }
  const type: Type = target.type === 'map<string, double>' ? 'double' : 'string';
  if (key !== undefined) {
    const fn: Fn = (n) => {
      const map = t(n) as Record<string, unknown>;
      const k = key(n) as string;
      return hasOwn(map, k) ? map[k] : noSuchKey(k, ast);
    };
    return { fn, type };
  }
  if (typeof name !== 'string') return undefined;
  const { field } = target;
  if (field !== undefined) {
    // node.metrics.mem: the map is always there, so one read and one own-key test.
    const direct: Fn = (n) => {
      const map = n[field] as Record<string, unknown>;
      return hasOwn(map, name) ? map[name] : noSuchKey(name, ast);
    };
    return { fn: direct, type };
  }
  const fn: Fn = (n) => {
    const map = t(n) as Record<string, unknown>;
    return hasOwn(map, name) ? map[name] : noSuchKey(name, ast);
  };
  return { fn, type };
}

function has(arg: Ast): Compiled | undefined {
  if (arg.op !== '.') return undefined;
  const [inner, name] = arg.args as [Ast, unknown];
  const target = compile(inner);
  if (target === undefined || typeof name !== 'string') return undefined;
  const t = target.fn;
  if (target.type === 'Node' && hasOwn(fieldTypes, name)) {
    const field = name as keyof NodeSnapshot;
    return { fn: (n) => (t(n) as NodeSnapshot)[field] !== undefined, type: 'bool' };
  }
  if (target.type === 'map<string, double>' || target.type === 'map<string, string>') {
    const { field } = target;
    if (field !== undefined) return { fn: (n) => hasOwn(n[field] as object, name), type: 'bool' };
    return { fn: (n) => hasOwn(t(n) as object, name), type: 'bool' };
  }
  return undefined;
}

// CEL's && and || are commutative over errors: an error on one side is absorbed when the
// other side decides (false for &&, true for ||), and raised otherwise.
function logic(
  op: '&&' | '||',
  left: Compiled | undefined,
  right: Compiled | undefined,
): Compiled | undefined {
  if (left?.type !== 'bool' || right?.type !== 'bool') return undefined;
  const [l, r] = [left.fn, right.fn];
  const decides = op === '||';
  const fn: Fn = (n) => {
    let first: unknown;
    try {
      first = l(n);
    } catch (error) {
      if (r(n) === decides) return decides;
      throw error;
    }
    return first === decides ? decides : r(n);
  };
  return { fn, type: 'bool' as const };
}

function membership(item: Compiled | undefined, set: Compiled | undefined): Compiled | undefined {
  if (item?.type !== 'string' || set === undefined) return undefined;
  const [i, s] = [item.fn, set.fn];
  if (set.type === 'list<string>') {
    return { fn: (n: NodeSnapshot) => (s(n) as string[]).includes(i(n) as string), type: 'bool' };
  }
  if (set.type === 'map<string, double>' || set.type === 'map<string, string>') {
    return { fn: (n: NodeSnapshot) => hasOwn(s(n) as object, i(n) as string), type: 'bool' };
  }
  return undefined;
}

function compare(
  op: string,
  left: Compiled | undefined,
  right: Compiled | undefined,
): Compiled | undefined {
  if (left === undefined || right === undefined) return undefined;
  const numeric = (c: Compiled) => c.type === 'double' || c.type === 'int';
  const same =
    (numeric(left) && numeric(right) && (left.type === 'double' || right.type === 'double')) ||
    (left.type === right.type && (left.type === 'string' || left.type === 'bool'));
  if (!same || (left.type === 'bool' && op !== '==' && op !== '!=')) return undefined;
  const l = left.fn as (n: NodeSnapshot) => number;
  // A limit written in the rule is captured as it is, not called for: the common case.
  if ('constant' in right) {
    const c = right.constant as number;
    return { fn: against(op, l, c), type: 'bool' as const };
  }
  const r = right.fn as (n: NodeSnapshot) => number;
  return { fn: between(op, l, r), type: 'bool' as const };
}

function against(op: string, l: (n: NodeSnapshot) => number, c: number): Fn {
  switch (op) {
    case '<':
      return (n) => l(n) < c;
    case '<=':
      return (n) => l(n) <= c;
    case '>':
      return (n) => l(n) > c;
    case '>=':
      return (n) => l(n) >= c;
    case '==':
      return (n) => l(n) === c;
    default:
      return (n) => l(n) !== c;
  }
}

function between(op: string, l: (n: NodeSnapshot) => number, r: (n: NodeSnapshot) => number): Fn {
  switch (op) {
    case '<':
      return (n) => l(n) < r(n);
    case '<=':
      return (n) => l(n) <= r(n);
    case '>':
      return (n) => l(n) > r(n);
    case '>=':
      return (n) => l(n) >= r(n);
    case '==':
      return (n) => l(n) === r(n);
    default:
      return (n) => l(n) !== r(n);
  }
}
