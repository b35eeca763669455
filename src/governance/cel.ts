import { Environment, serialize } from '@marcbachmann/cel-js';
import { InvalidRuleError } from '../errors.js';
import type { NodeSnapshot } from '../types.js';
import { fastProgram } from './cel-fast.js';
import type { Rule } from './types.js';

// The library is @marcbachmann/cel-js: measured against @bufbuild/cel in bench/scenarios/cel.ts
// (docs/benchmarks.md). It type-checks against a declared `node` type, which @bufbuild/cel can
// do only for protobuf messages.

/** What a CEL expression sees as `node`: the snapshot's fields, read through getters. */
class CelNode {
  n: NodeSnapshot = undefined as unknown as NodeSnapshot;
  get id(): string {
    return this.n.id;
  }
  get labels(): object {
    return this.n.labels;
  }
  // Undefined before the node reports one: reading it is then a run-time error (`has()` first).
  get version(): string | undefined {
    return this.n.version;
  }
  get load(): number {
    return this.n.load;
  }
  get metrics(): object {
    return this.n.metrics;
  }
  get suspicion(): number {
    return this.n.suspicion;
  }
  get trust(): number {
    return this.n.trust;
  }
  get state(): string {
    return this.n.state;
  }
}

/** The fields of `node`, with their CEL types: `policy check` prints them too. */
export const celNodeFields = {
  id: 'string',
  labels: 'map<string, string>',
  version: 'string',
  load: 'double',
  metrics: 'map<string, double>',
  suspicion: 'double',
  trust: 'double',
  state: 'string',
} as const;

const environment = new Environment()
  .registerType('Node', { ctor: CelNode, fields: celNodeFields })
  .registerVariable('node', 'Node')
  .registerVariable('now', 'google.protobuf.Timestamp');

/** A CEL expression that does not compile; `offset` is where in the expression, from 0. */
export class CelCompileError extends Error {
  readonly offset: number;
  readonly problem: string;
  readonly field: 'expression' | 'message';

  constructor(problem: string, offset: number, field: 'expression' | 'message') {
    super(`${field}, column ${offset + 1}: ${problem}`);
    this.problem = problem;
    this.offset = offset;
    this.field = field;
  }
}

type Program = ((context: object) => unknown) & { readonly ast: Parameters<typeof serialize>[0] };

function compile(
  expression: string,
  want: 'bool' | 'string',
  field: 'expression' | 'message',
): Program {
  let program: Program & { check(): { valid: boolean; type?: string; error?: Error } };
  try {
    program = environment.parse(expression) as typeof program;
  } catch (error) {
    throw compileError(error, field);
  }
  const checked = program.check();
  if (!checked.valid) throw compileError(checked.error, field);
  if (checked.type !== want && checked.type !== 'dyn') {
    throw new CelCompileError(`gives ${checked.type}, expected ${want}`, 0, field);
  }
  return program;
}

function compileError(error: unknown, field: 'expression' | 'message'): CelCompileError {
  const e = error as { message?: string; node?: { pos?: number } } | undefined;
  // The library appends the source with a caret under the mistake: keep the first line.
  const problem = String(e?.message ?? error).split('\n')[0] ?? '';
  return new CelCompileError(problem, e?.node?.pos ?? 0, field);
}

/** A compiled CEL rule's source, kept so `wyneos policy check` can print it. */
export interface CelForm {
  readonly expression: string;
  readonly message: string | undefined;
  /** The expression as the library parsed it, printed back: what runs. */
  readonly compiled: string;
  readonly compiledMessage: string | undefined;
  /** Compiled to closures over the snapshot (cel-fast.ts) rather than interpreted. */
  readonly closures: boolean;
}

const forms = new WeakMap<Rule, CelForm>();

/** @internal The CEL source of a rule made by {@link celRule}, undefined for any other rule. */
export function celFormOf(rule: Rule): CelForm | undefined {
  return forms.get(rule);
}

/** A CEL rule: a {@link Rule} whose `evaluate` is a boolean CEL `expression` over `node` and `now`. */
export interface CelRuleDefinition extends Omit<Rule, 'evaluate' | 'description'> {
  /** A CEL boolean over `node` (id, labels, version, load, metrics, suspicion, trust, state) and `now`. */
  readonly expression: string;
  /** A CEL string expression: the message of a failing result. Default: the description. */
  readonly message?: string;
  /** Default: the expression. */
  readonly description?: string;
}

/**
 * @internal Compiles a CEL rule, throwing a {@link CelCompileError} that says where the
 * expression (or the message) is wrong. `parsePolicy` places that error in the file.
 * `interpret` leaves every evaluation to the library, for tests that compare the two routes.
 */
export function compileCelRule(
  definition: CelRuleDefinition,
  options: { readonly interpret?: boolean } = {},
): Rule {
  const { expression, message, ...rest } = definition;
  const test = compile(expression, 'bool', 'expression');
  const explain = message === undefined ? undefined : compile(message, 'string', 'message');
  // One view and one context for all evaluations: a rule runs synchronously, one node at a time.
  const view = new CelNode();
  const context: { node: CelNode; now: Date } = { node: view, now: new Date(0) };
  const run = (program: Program, node: NodeSnapshot, at: number): unknown => {
    view.n = node;
    if (context.now.getTime() !== at) context.now = new Date(at);
    try {
      return program(context);
    } catch (error) {
      // Becomes the `error` result's message: one line, where the source's caret would be.
      const e = error as { message?: string; node?: { pos?: number } };
      const where = e.node?.pos === undefined ? '' : ` (column ${e.node.pos + 1})`;
      throw new Error(`${String(e.message).split('\n')[0]}${where}`);
    }
  };
  const fast = options.interpret ? undefined : fastProgram(test.ast);
  const evaluate: Rule['evaluate'] =
    fast !== undefined && explain === undefined
      ? (fast as Rule['evaluate'])
      : (node, ctx) => {
          const ok = fast === undefined ? run(test, node, ctx.at) : fast(node);
          if (ok === true || explain === undefined) return ok as boolean;
          if (ok !== false) return ok as never; // not a boolean (a dyn): judged as an error
          return { ok: false, message: String(run(explain, node, ctx.at)) };
        };
  const rule: Rule = { ...rest, description: definition.description ?? expression, evaluate };
  forms.set(rule, {
    expression,
    message,
    compiled: serialize(test.ast),
    closures: fast !== undefined,
    compiledMessage: explain === undefined ? undefined : serialize(explain.ast),
  });
  return rule;
}

/**
 * A rule written in CEL rather than TypeScript: what a policy file's `expression:` compiles to.
 * The expression is parsed and type-checked here; a mistake throws an `InvalidRuleError` that
 * gives its column. An expression that fails on a node (a missing key) is an `error` result.
 *
 * @example
 * const cool = celRule({
 *   id: 'cool-canaries',
 *   expression: 'node.load < 0.8 || node.labels.tier != "canary"',
 *   message: '"load " + string(node.load)',
 * });
 */
export function celRule(definition: CelRuleDefinition): Rule {
  try {
    return compileCelRule(definition);
  } catch (error) {
    if (!(error instanceof CelCompileError)) throw error;
    throw new InvalidRuleError(definition.id, error.message);
  }
}
