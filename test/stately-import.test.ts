import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// What Stately Studio's "import from code" reads: one machine per file, written as
// `setup({...}).createMachine({...})` with a literal config, implementations by string name. Each
// rule below is one the importer needs; a change that breaks one fails here, not in Studio.

const machinesDir = fileURLToPath(new URL('../machines/', import.meta.url));
const files = readdirSync(machinesDir).filter((f) => f.endsWith('.machine.ts'));

/** Every problem that would stop Stately from importing the file, as `line: what`. */
function importProblems(source: string, fileName: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const problems: string[] = [];
  const at = (node: ts.Node, what: string) =>
    problems.push(`${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${what}`);
  const configs: ts.Expression[] = [];
  const visit = (node: ts.Node) => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'createMachine'
    ) {
      const receiver = node.expression.expression;
      const viaSetup =
        ts.isCallExpression(receiver) &&
        ts.isIdentifier(receiver.expression) &&
        receiver.expression.text === 'setup';
      if (!viaSetup) at(node, 'createMachine is not called on setup({...})');
      const config = node.arguments[0];
      if (config !== undefined) configs.push(config);
    } else if (
      ts.isCallExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'createMachine'
    ) {
      at(node, 'a bare createMachine(): use setup({...}).createMachine({...})');
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (configs.length !== 1)
    problems.push(`0: expected one machine in the file, found ${configs.length}`);
  for (const config of configs) {
    if (!ts.isObjectLiteralExpression(config)) {
      at(
        config,
        `the config is a ${ts.SyntaxKind[config.kind]}, not an object literal (no satisfies, as or variables)`,
      );
      continue;
    }
    checkConfig(config, at);
  }
  return problems;
}

function checkConfig(
  config: ts.ObjectLiteralExpression,
  at: (node: ts.Node, what: string) => void,
): void {
  const walk = (object: ts.ObjectLiteralExpression, path: string) => {
    for (const property of object.properties) {
      if (ts.isSpreadAssignment(property)) {
        at(property, `a spread in ${path || 'the config'}`);
        continue;
      }
      if (!ts.isPropertyAssignment(property)) {
        // `context: ({ input }) => ...` is the one function Stately reads past (as a method it is not).
        at(property, `${path}: a ${ts.SyntaxKind[property.kind]}, not a plain property`);
        continue;
      }
      const name = property.name;
      if (ts.isComputedPropertyName(name)) at(property, `${path}: a computed key`);
      const key = ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : '?';
      const here = path ? `${path}.${key}` : key;
      const value = property.initializer;
      if (key === 'id' && !ts.isStringLiteral(value))
        at(value, `${here}: an id that is not a string literal`);
      if (key === 'states' && !ts.isObjectLiteralExpression(value))
        at(value, `${here}: generated states`);
      if (key === 'context' && path === '') continue; // data, possibly from input
      checkValue(value, here, at, walk);
    }
  };
  walk(config, '');
}

function checkValue(
  value: ts.Expression,
  path: string,
  at: (node: ts.Node, what: string) => void,
  walk: (object: ts.ObjectLiteralExpression, path: string) => void,
): void {
  if (ts.isObjectLiteralExpression(value)) walk(value, path);
  else if (ts.isArrayLiteralExpression(value)) {
    for (const [i, element] of value.elements.entries())
      checkValue(element, `${path}[${i}]`, at, walk);
  } else if (ts.isArrowFunction(value) || ts.isFunctionExpression(value))
    at(value, `${path}: an inline implementation (name it in setup)`);
  else if (ts.isTemplateExpression(value) || ts.isNoSubstitutionTemplateLiteral(value))
    at(value, `${path}: a template string`);
  else if (ts.isIdentifier(value) && value.text !== 'undefined')
    at(value, `${path}: a variable (${value.text}), not a literal`);
  else if (ts.isCallExpression(value) || ts.isNewExpression(value))
    at(value, `${path}: a call, not a literal`);
}

describe('machines import into Stately Studio', () => {
  it('has the six machines, one file each', () => {
    expect(files.sort()).toEqual([
      'governance.machine.ts',
      'healing.machine.ts',
      'node.machine.ts',
      'review.machine.ts',
      'snapshot.machine.ts',
      'supervisor.machine.ts',
    ]);
  });

  for (const name of files) {
    it(`${name}: setup().createMachine() with a literal config and implementations by name`, () => {
      expect(importProblems(readFileSync(join(machinesDir, name), 'utf8'), name)).toEqual([]);
    });
  }

  it('catches each thing that breaks the import', () => {
    const problems = (config: string, prelude = '') =>
      importProblems(
        `import { setup, createMachine } from 'xstate';\n${prelude}\nexport const m = ${config};\n`,
        'x.ts',
      );
    expect(
      problems(
        `setup({}).createMachine({ id: 'ok', initial: 'a', states: { a: { on: { GO: { target: 'a', actions: ['log', { type: 'say', params: { x: 1 } }] } } } } })`,
      ),
    ).toEqual([]);
    expect(problems('createMachine({ id: "m" })')[0]).toMatch(/bare createMachine/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source under test has a template id
    expect(problems('setup({}).createMachine({ id: `m-${1}` })')[0]).toMatch(
      /id that is not a string literal/,
    );
    expect(
      problems('setup({}).createMachine({ ...base, id: "m" })', 'const base = {};')[0],
    ).toMatch(/a spread/);
    expect(problems('setup({}).createMachine({ id: "m", states: makeStates() })')[0]).toMatch(
      /generated states/,
    );
    expect(problems('setup({}).createMachine({ id: "m" } satisfies object)')[0]).toMatch(
      /not an object literal/,
    );
    expect(problems('setup({}).createMachine({ id: "m", entry: () => {} })')[0]).toMatch(
      /inline implementation/,
    );
    expect(
      problems('setup({}).createMachine({ id: "m", initial: start })', 'const start = "a";')[0],
    ).toMatch(/a variable/);
    expect(
      problems('[setup({}).createMachine({ id: "a" }), setup({}).createMachine({ id: "b" })]')[0],
    ).toMatch(/one machine in the file, found 2/);
  });
});
