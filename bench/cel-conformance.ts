/**
 * A subset of the official CEL conformance suite (`@bufbuild/cel-spec`'s test data) run
 * against both CEL libraries wyneos measured: the sections whose features a policy rule uses
 * (comparisons, logic, fields and `has`, strings, lists, macros, arithmetic, conversions), and
 * within them the tests that need no declared variables, no container and no protobuf
 * messages, and expect a scalar or an error. Prints each library's pass rate and how many
 * tests a second it parses and evaluates. `npx tsx bench/cel-conformance.ts`.
 */
import { isCelError, run } from '@bufbuild/cel';
import type { IncrementalTest, IncrementalTestSuite } from '@bufbuild/cel-spec/testdata/tests.js';
import { getConformanceSuite } from '@bufbuild/cel-spec/testdata/tests.js';
import { Environment, evaluate } from '@marcbachmann/cel-js';
import { fastProgram } from '../src/governance/cel-fast.js';
import type { NodeSnapshot } from '../src/types.js';

export const sections = [
  'basic',
  'comparisons',
  'logic',
  'fields',
  'string',
  'lists',
  'macros',
  'integer_math',
  'fp_math',
  'conversions',
] as const;

type Expected = { readonly error: true } | { readonly error: false; readonly value: unknown };

interface Case {
  readonly name: string;
  readonly expr: string;
  readonly expected: Expected;
}

function expectedOf(test: IncrementalTest): Expected | undefined {
  const { original } = test;
  if (original.typeEnv.length > 0 || original.container !== '') return undefined;
  if (Object.keys(original.bindings).length > 0 || original.disableMacros) return undefined;
  if (original.checkOnly) return undefined;
  const matcher = original.resultMatcher;
  if (matcher.case === 'evalError') return { error: true };
  if (matcher.case !== 'value') return undefined;
  const kind = matcher.value.kind;
  switch (kind.case) {
    case 'boolValue':
    case 'stringValue':
    case 'doubleValue':
    case 'int64Value':
      return { error: false, value: kind.value };
    case 'nullValue':
      return { error: false, value: null };
    default:
      return undefined; // uint, bytes, lists, maps, messages: outside the subset
  }
}

function collect(suite: IncrementalTestSuite, into: Case[]): Case[] {
  for (const test of suite.tests) {
    const expected = expectedOf(test);
    if (expected !== undefined) into.push({ name: test.name, expr: test.original.expr, expected });
  }
  for (const child of suite.suites) collect(child, into);
  return into;
}

/** The subset, in the suite's order. */
export function conformanceCases(): Case[] {
  const root = getConformanceSuite();
  const cases: Case[] = [];
  for (const suite of root.suites) {
    if ((sections as readonly string[]).includes(suite.name)) collect(suite, cases);
  }
  return cases;
}

type Outcome = { readonly error: true } | { readonly error: false; readonly value: unknown };

export const libraries: Readonly<Record<string, (expr: string) => Outcome>> = {
  '@marcbachmann/cel-js': (expr) => {
    try {
      return { error: false, value: evaluate(expr) };
    } catch {
      return { error: true };
    }
  },
  '@bufbuild/cel': (expr) => {
    try {
      const value = run(expr, {});
      return isCelError(value) ? { error: true } : { error: false, value };
    } catch {
      return { error: true };
    }
  },
};

// wyneos's own closures (src/governance/cel-fast.ts) on the tests whose expression they
// compile: the boolean ones over literals, since no test reads `node`.
const checking = new Environment();
const noNode = {} as NodeSnapshot;

function closureFor(expr: string): ((node: NodeSnapshot) => unknown) | undefined {
  try {
    const program = checking.parse(expr) as unknown as {
      ast: unknown;
      check(): { valid: boolean };
    };
    return program.check().valid ? fastProgram(program.ast) : undefined;
  } catch {
    return undefined;
  }
}

function closureOutcome(fn: (node: NodeSnapshot) => unknown): Outcome {
  try {
    return { error: false, value: fn(noNode) };
  } catch {
    return { error: true };
  }
}

function agrees(outcome: Outcome, expected: Expected): boolean {
  if (expected.error || outcome.error) return expected.error === outcome.error;
  const want = expected.value;
  const got = outcome.value;
  if (typeof want === 'number' && typeof got === 'number') {
    return Object.is(want, got) || want === got;
  }
  return want === got;
}

function main(): void {
  const cases = conformanceCases();
  console.log(`${cases.length} tests from ${sections.join(', ')}\n`);
  for (const [name, evaluateWith] of Object.entries(libraries)) {
    const failed = cases.filter((c) => !agrees(evaluateWith(c.expr), c.expected));
    // Throughput: the whole subset parsed and evaluated, over and over, for at least 2 s.
    let rounds = 0;
    const start = performance.now();
    while (performance.now() - start < 2_000) {
      for (const c of cases) evaluateWith(c.expr);
      rounds++;
    }
    const perSecond = (rounds * cases.length * 1000) / (performance.now() - start);
    const passed = cases.length - failed.length;
    console.log(
      `${name}: ${passed}/${cases.length} passed (${((100 * passed) / cases.length).toFixed(1)} %), ` +
        `${Math.round(perSecond).toLocaleString('en')} tests/s parsed and evaluated`,
    );
    console.log(`  failed: ${failed.map((c) => c.name).join(', ') || 'none'}\n`);
  }
  const compiled = cases.flatMap((c) => {
    const fn = closureFor(c.expr);
    return fn === undefined ? [] : [{ ...c, fn }];
  });
  const wrong = compiled.filter((c) => !agrees(closureOutcome(c.fn), c.expected));
  console.log(
    `wyneos closures: ${compiled.length - wrong.length}/${compiled.length} of the tests they compile passed`,
  );
  console.log(`  failed: ${wrong.map((c) => c.name).join(', ') || 'none'}`);
}

main();
