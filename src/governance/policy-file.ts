import { readFile, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, InvalidPolicyError } from '../errors.js';
import { type BuiltinRuleName, type RuleOverrides, show } from './builtins.js';
import { CelCompileError, compileCelRule } from './cel.js';
import { type Locate, locator } from './policy-position.js';
import {
  builtinNames,
  builtinParams,
  overrideKeys,
  type Params,
  schemaError,
  validateCelRuleShape,
  validatePolicyShape,
  validateRuleShape,
} from './policy-schema.js';
import type { LabelSelector, Policy, Rule } from './types.js';
import { yamlParser } from './yaml.js';

/**
 * Turns policy data, as parsed from YAML or JSON, into a {@link Policy} of built-in rules.
 * Throws an `InvalidPolicyError` whose `path` points at the first mistake (`rules[2].params.max`).
 *
 * @param source - Names the data in error messages, usually its file.
 * @example
 * const policy = parsePolicy({
 *   version: '2026-11-26.1',
 *   rules: [{ use: 'maxLoad', params: { max: 0.95 }, enforcement: 'reduce-load', for: 3 }],
 * });
 */
export function parsePolicy(data: unknown, source?: string): Policy {
  return parsePolicyData(data, source, undefined);
}

// The data each parsed policy was made from: what a NATS fleet shares of it (rules are code).
const sources = new WeakMap<Policy, unknown>();

/** @internal The data a policy was parsed from (YAML or JSON), or undefined for one made in code. */
export function policySource(policy: Policy): unknown {
  return sources.get(policy);
}

function parsePolicyData(data: unknown, source: string | undefined, locate?: Locate): Policy {
  if (!validatePolicyShape(data)) throw schemaError(validatePolicyShape.errors, data, '', source);
  const rules: Rule[] = [];
  const seen = new Map<string, number>();
  data.rules.forEach((raw, i) => {
    const rule = isCel(raw)
      ? parseCelRule(raw, i, source, locate)
      : parseRule(raw, `rules[${i}]`, source);
    const first = seen.get(rule.id);
    if (first !== undefined) {
      throw new InvalidPolicyError(
        `rules[${i}].id`,
        `duplicate rule id '${rule.id}', also used by rules[${first}]: give one of them another id`,
        source,
      );
    }
    seen.set(rule.id, i);
    rules.push(rule);
  });
  const policy = { version: data.version, rules };
  sources.set(policy, data);
  return policy;
}

function parseRule(raw: unknown, at: string, source: string | undefined): Rule {
  // Checked before the schema so a typo in `use` is reported as such, not as missing params.
  const use = typeof raw === 'object' && raw !== null ? (raw as Params).use : undefined;
  if (typeof use === 'string' && !Object.hasOwn(builtinParams, use)) {
    throw new InvalidPolicyError(
      `${at}.use`,
      `unknown built-in rule ${show(use).replaceAll('"', "'")}; the built-ins are ${builtinNames}`,
      source,
    );
  }
  if (!validateRuleShape(raw)) throw schemaError(validateRuleShape.errors, raw, at, source);
  const builtin = builtinParams[raw.use as BuiltinRuleName];
  if (!builtin.validate(raw.params)) {
    throw schemaError(builtin.validate.errors, raw.params, `${at}.params`, source);
  }
  const overrides: Params = {};
  for (const key of overrideKeys) if (raw[key] !== undefined) overrides[key] = raw[key];
  if (raw.appliesTo !== undefined) overrides.appliesTo = copySelector(raw.appliesTo);
  try {
    return builtin.create(raw.params, overrides as RuleOverrides);
  } catch (error) {
    // The schemas mirror the factories' checks; this keeps the path right if they drift.
    if (!(error instanceof InvalidPolicyError)) throw error;
    const problem = error.message.replace(`Invalid policy at ${error.path}: `, '');
    throw new InvalidPolicyError(`${at}.${error.path}`, problem, source);
  }
}

function isCel(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && ('expression' in raw || 'message' in raw);
}

function parseCelRule(
  raw: unknown,
  i: number,
  source: string | undefined,
  locate: Locate | undefined,
): Rule {
  const at = `rules[${i}]`;
  if (typeof raw === 'object' && raw !== null && ('use' in raw || 'params' in raw)) {
    throw new InvalidPolicyError(
      at,
      'a rule has either use and params (a built-in) or expression (CEL), not both',
      source,
    );
  }
  if (!validateCelRuleShape(raw)) throw schemaError(validateCelRuleShape.errors, raw, at, source);
  const { appliesTo, ...definition } = raw;
  try {
    return compileCelRule({
      ...definition,
      ...(appliesTo === undefined ? {} : { appliesTo: copySelector(appliesTo) }),
    });
  } catch (error) {
    if (!(error instanceof CelCompileError)) throw error;
    const position = locate?.(['rules', i, error.field], error.offset);
    const problem = `rule '${raw.id}': ${error.message}`;
    throw new InvalidPolicyError(`${at}.${error.field}`, problem, source, position);
  }
}

function copySelector(selector: RuleOverrides['appliesTo']): LabelSelector {
  const entries = Object.entries(selector as LabelSelector);
  return Object.fromEntries(
    entries.map(([key, value]) => [key, typeof value === 'string' ? value : [...value]]),
  );
}

/**
 * Parses policy text, YAML or JSON, then validates it as {@link parsePolicy} does. A syntax
 * error becomes an `InvalidPolicyError` that names the line when the parser gives one.
 *
 * @example
 * const policy = parsePolicyText(await readFile('policy.yaml', 'utf8'), 'yaml', 'policy.yaml');
 */
export function parsePolicyText(text: string, format: 'yaml' | 'json', source?: string): Policy {
  if (format !== 'yaml' && format !== 'json') {
    throw new InvalidArgumentError('format', `expected 'yaml' or 'json', got ${show(format)}`);
  }
  const data = format === 'yaml' ? parseYaml(text, source) : parseJson(text, source);
  return parsePolicyData(data, source, locator(text));
}

function parseYaml(text: string, source: string | undefined): unknown {
  const doc = yamlParser().parseDocument(text);
  // Warnings (an unresolved tag, say) are errors here: a policy that half-parses is worse than none.
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) {
    const where = problem.linePos?.[0];
    const summary = (problem.message.split('\n')[0] ?? '').replace(
      / at line \d+, column \d+:$/,
      '',
    );
    const at = where ? ` at line ${where.line}, column ${where.col}` : '';
    throw new InvalidPolicyError('', `YAML syntax error${at}: ${summary}`, source);
  }
  try {
    return doc.toJS();
  } catch (error) {
    // toJS throws on alias bombs (too many aliases), which the parser itself accepts.
    throw new InvalidPolicyError('', `YAML error: ${(error as Error).message}`, source);
  }
}

function parseJson(text: string, source: string | undefined): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    // V8 words this differently across Node versions: take a line or position when present.
    const lineCol = /line (\d+) column (\d+)/.exec(message);
    const position = /at position (\d+)/.exec(message);
    let at = '';
    if (lineCol) at = ` at line ${lineCol[1]}, column ${lineCol[2]}`;
    else if (position) at = ` at line ${lineOf(text, Number(position[1]))}`;
    else if (/end of JSON input/.test(message)) at = ` at line ${lineOf(text, text.length)}`;
    throw new InvalidPolicyError('', `JSON syntax error${at}: ${message}`, source);
  }
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

/**
 * Loads a policy file. `.yaml`, `.yml` and `.json` files are data, validated by
 * {@link parsePolicy}; `.js`, `.mjs`, `.ts` and `.mts` files are imported and their default
 * export (or export `policy`) must be a `{ version, rules }` of rule objects (`.ts` needs a
 * runtime that can import TypeScript). Node caches modules: loading the same module path
 * again returns the first version.
 *
 * @example
 * supervisor.setPolicy(await loadPolicyFile('policy.yaml'));
 */
export async function loadPolicyFile(path: string): Promise<Policy> {
  const abs = resolve(path);
  const ext = extname(abs).toLowerCase();
  const isData = ext === '.yaml' || ext === '.yml' || ext === '.json';
  if (!isData && !['.js', '.mjs', '.ts', '.mts'].includes(ext)) {
    throw new InvalidPolicyError(
      '',
      `unsupported file extension '${ext}': use .yaml, .yml, .json, .js, .mjs, .ts or .mts`,
      path,
    );
  }
  const info = await stat(abs).catch((error: NodeJS.ErrnoException) => {
    const problem = error.code === 'ENOENT' ? `the file does not exist (${abs})` : error.message;
    throw new InvalidPolicyError('', problem, path);
  });
  if (!info.isFile()) throw new InvalidPolicyError('', `${abs} is not a file`, path);
  if (isData) {
    return parsePolicyText(await readFile(abs, 'utf8'), ext === '.json' ? 'json' : 'yaml', path);
  }
  return importPolicy(abs, path);
}

async function importPolicy(abs: string, source: string): Promise<Policy> {
  let module: Params;
  try {
    module = (await import(pathToFileURL(abs).href)) as Params;
  } catch (error) {
    const wrapped = new InvalidPolicyError(
      '',
      `importing the module failed: ${(error as Error).message}`,
      source,
    );
    wrapped.cause = error;
    throw wrapped;
  }
  const policy = module.default ?? module.policy;
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    throw new InvalidPolicyError(
      '',
      `expected a default export (or an export named policy) of { version, rules }, got ${show(policy)}`,
      source,
    );
  }
  const { version, rules } = policy as Params;
  if (typeof version !== 'string' || version.trim() === '') {
    throw new InvalidPolicyError(
      'version',
      `expected a non-empty string, got ${show(version)}`,
      source,
    );
  }
  if (!Array.isArray(rules)) {
    throw new InvalidPolicyError('rules', `expected an array of rules, got ${show(rules)}`, source);
  }
  // Rule objects are checked where every policy is, when it is set (validateRules).
  return { version, rules };
}
