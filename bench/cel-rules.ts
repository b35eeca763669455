/**
 * The ten trivial rules of `trivial-rules.ts` written in CEL, for each of the two CEL libraries
 * measured: @marcbachmann/cel-js through wyneos's `celRule` (what a policy file's `expression:`
 * compiles to: closures for these rules, see src/governance/cel-fast.ts), the same with the
 * library interpreting every evaluation, and @bufbuild/cel planned once per rule. A missing metric counts as 0, as in
 * the TypeScript rules.
 */
import { CelScalar, celEnv, isCelError, mapType, parse, plan } from '@bufbuild/cel';
import { celRule, defineRule, type NodeSnapshot, type Rule } from 'wyneos';
import { compileCelRule } from '../src/governance/cel.js';
import { trivialRules } from './trivial-rules.js';

/** The CEL text of each trivial rule: `node.load <= 0.95`, `(has(...) ? ... : 0.0) < 0.9`. */
export const celExpressions: readonly string[] = trivialRules.map(({ column, op, limit }) => {
  const value =
    column === 'load'
      ? 'node.load'
      : `(has(node.metrics.${column}) ? node.metrics.${column} : 0.0)`;
  // A double literal: 1000 would be an int, which CEL compares with a double all the same.
  return `${value} ${op} ${Number.isInteger(limit) ? `${limit}.0` : limit}`;
});

/** The rules as wyneos compiles a policy file's `expression:` (@marcbachmann/cel-js). */
export const celWyneosRules: readonly Rule[] = trivialRules.map((rule, i) =>
  celRule({ id: rule.id, expression: celExpressions[i] as string }),
);

/** The same, every evaluation left to the library's interpreter: the library on its own. */
export const celInterpretedRules: readonly Rule[] = trivialRules.map((rule, i) =>
  compileCelRule({ id: rule.id, expression: celExpressions[i] as string }, { interpret: true }),
);

// @bufbuild/cel declares structured variables only as protobuf messages, so `node` is a
// map<string, dyn> here: the expressions are not type-checked against the node's fields.
const bufEnv = celEnv({ variables: { node: mapType(CelScalar.STRING, CelScalar.DYN) } });

/** The rules as @bufbuild/cel programs wrapped as wyneos rules: an error value is thrown. */
export const bufbuildRules: readonly Rule[] = trivialRules.map((rule, i) => {
  const program = plan(bufEnv, parse(celExpressions[i] as string));
  const binding: { node: NodeSnapshot | undefined } = { node: undefined };
  return defineRule({
    id: rule.id,
    description: celExpressions[i] as string,
    evaluate: (node) => {
      binding.node = node;
      const result = program(binding as never);
      if (isCelError(result)) throw new Error(result.message);
      return result === true;
    },
  });
});
