import { readFile, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import semver from 'semver';
import { parseDocument } from 'yaml';
import { InvalidArgumentError, InvalidPolicyError } from '../errors.js';
import { type BuiltinRuleName, builtinRules, type RuleOverrides, show } from './builtins.js';
import { enforcements, severities } from './define-rule.js';
import type { LabelSelector, Policy, Rule } from './types.js';

// verbose: errors carry the failing subschema, whose `description` becomes the "expected ..."
// half of the message, so each constraint is worded once, next to the constraint.
const ajv = new Ajv({
  allErrors: false,
  strict: true,
  strictNumbers: true,
  allowUnionTypes: true,
  verbose: true,
});
ajv.addFormat('semver', { type: 'string', validate: (value) => semver.valid(value) !== null });

const policySchema = {
  type: 'object',
  description: 'an object with version and rules',
  additionalProperties: false,
  required: ['version', 'rules'],
  properties: {
    version: { type: 'string', pattern: '\\S', maxLength: 128, description: 'a non-empty string' },
    rules: { type: 'array', description: 'an array of rules' },
  },
} as const;

const ruleSchema = {
  type: 'object',
  description: 'a rule object such as { use: maxLoad, params: { max: 0.9 } }',
  additionalProperties: false,
  required: ['use', 'params'],
  properties: {
    // The same pattern defineRule enforces, so a policy file fails here with a path instead.
    id: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$',
      description: "1-128 letters, digits, '.', '_' or '-' starting with a letter or digit",
    },
    use: { type: 'string', description: 'the name of a built-in rule' },
    params: { type: 'object', description: "an object of the built-in's parameters" },
    description: { type: 'string', pattern: '\\S', description: 'a non-empty string' },
    severity: { enum: severities },
    category: { type: 'string', description: 'a string' },
    enforcement: { enum: enforcements },
    for: { type: 'integer', minimum: 1, description: 'a positive integer' },
    admission: { type: 'boolean', description: 'true or false' },
    onError: { enum: ['fail', 'skip'] },
    appliesTo: {
      type: 'object',
      description: 'a label selector: an object of label values',
      propertyNames: { type: 'string', minLength: 1 },
      additionalProperties: {
        type: ['string', 'array'],
        description: 'a label value or an array of label values',
        minItems: 1,
        items: { type: 'string', description: 'a label value (a string)' },
      },
    },
  },
} as const;

interface RawRule extends RuleOverrides {
  readonly use: string;
  readonly params: Record<string, unknown>;
}

const validatePolicyShape = ajv.compile<{ version: string; rules: unknown[] }>(policySchema);
const validateRuleShape = ajv.compile<RawRule>(ruleSchema);

const label = { type: 'string', minLength: 1, description: 'a non-empty string' } as const;
const strings = (item: object) =>
  ({
    type: 'array',
    minItems: 1,
    items: item,
    description: 'a non-empty array of strings',
  }) as const;

// Each built-in's parameters by name, and how they map onto the factory's arguments.
const builtinParams: Record<
  BuiltinRuleName,
  { readonly validate: ValidateFunction; readonly create: (p: Params, o: RuleOverrides) => Rule }
> = {
  maxLoad: {
    validate: paramsSchema({
      max: { type: 'number', minimum: 0, maximum: 1, description: 'a number between 0 and 1' },
    }),
    create: (p, o) => builtinRules.maxLoad(p.max as number, o),
  },
  metricBelow: {
    validate: paramsSchema({ name: label, max: { type: 'number', description: 'a number' } }),
    create: (p, o) => builtinRules.metricBelow(p.name as string, p.max as number, o),
  },
  minVersion: {
    validate: paramsSchema({
      min: { type: 'string', format: 'semver', description: 'a semver version such as 1.4.0' },
    }),
    create: (p, o) => builtinRules.minVersion(p.min as string, o),
  },
  requiredLabels: {
    validate: paramsSchema({ keys: strings(label) }),
    create: (p, o) => builtinRules.requiredLabels(p.keys as string[], o),
  },
  allowedLabelValues: {
    validate: paramsSchema({ label, values: strings({ type: 'string', description: 'a string' }) }),
    create: (p, o) => builtinRules.allowedLabelValues(p.label as string, p.values as string[], o),
  },
  heartbeatFresh: {
    validate: paramsSchema({
      maxAgeMs: {
        type: 'number',
        minimum: 0,
        description: 'a non-negative number of milliseconds',
      },
    }),
    create: (p, o) => builtinRules.heartbeatFresh(p.maxAgeMs as number, o),
  },
};

type Params = Record<string, unknown>;

function paramsSchema(properties: Record<string, object>): ValidateFunction {
  return ajv.compile({
    type: 'object',
    description: "an object of the built-in's parameters",
    additionalProperties: false,
    required: Object.keys(properties),
    properties,
  });
}

const builtinNames = Object.keys(builtinParams).join(', ');
const overrideKeys = [
  'id',
  'description',
  'severity',
  'category',
  'enforcement',
  'for',
  'admission',
  'onError',
] as const;

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
  if (!validatePolicyShape(data)) throw schemaError(validatePolicyShape.errors, data, '', source);
  const rules: Rule[] = [];
  const seen = new Map<string, number>();
  data.rules.forEach((raw, i) => {
    const rule = parseRule(raw, `rules[${i}]`, source);
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
  return { version: data.version, rules };
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
  return parsePolicy(format === 'yaml' ? parseYaml(text, source) : parseJson(text, source), source);
}

function parseYaml(text: string, source: string | undefined): unknown {
  const doc = parseDocument(text);
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

// ---------------------------------------------------------------------------------------------
// ajv errors to policy paths and sentences

function schemaError(
  errors: ErrorObject[] | null | undefined,
  data: unknown,
  base: string,
  source: string | undefined,
): InvalidPolicyError {
  const error = errors?.[0];
  if (error === undefined) return new InvalidPolicyError(base, 'is invalid', source);
  const { keyword, params } = error as { keyword: string; params: Params };
  const parent = error.parentSchema as { description?: string; properties?: object } | undefined;
  // A missing or unexpected key is reported at the key itself, not at the object holding it.
  const key =
    keyword === 'required'
      ? params.missingProperty
      : keyword === 'additionalProperties'
        ? params.additionalProperty
        : error.propertyName;
  const path = toPath(data, error.instancePath, base, key as string | undefined);
  let problem: string;
  if (keyword === 'required') problem = 'is required';
  else if (keyword === 'additionalProperties') {
    problem = `is not an allowed key; the keys are ${Object.keys(parent?.properties ?? {}).join(', ')}`;
  } else if (error.propertyName !== undefined) problem = 'is not allowed: keys must be non-empty';
  else if (keyword === 'enum') {
    problem = `expected one of ${(params.allowedValues as unknown[]).join(', ')}, got ${show(error.data)}`;
  } else problem = `expected ${parent?.description ?? error.message}, got ${show(error.data)}`;
  return new InvalidPolicyError(path, problem, source);
}

// A JSON pointer into `data`, plus a key under it, as a policy path: rules[2].params.max.
function toPath(data: unknown, pointer: string, base: string, key: string | undefined): string {
  const keys = pointer
    .split('/')
    .slice(1)
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (key !== undefined) keys.push(key);
  let path = base;
  let value = data;
  for (const k of keys) {
    if (Array.isArray(value) && /^\d+$/.test(k)) path += `[${k}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(k)) path += path === '' ? k : `.${k}`;
    else path += `[${JSON.stringify(k)}]`;
    value = typeof value === 'object' && value !== null ? (value as Params)[k] : undefined;
  }
  return path;
}
