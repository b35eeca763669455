import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import semver from 'semver';
import { InvalidPolicyError } from '../errors.js';
import { type BuiltinRuleName, builtinRules, type RuleOverrides, show } from './builtins.js';
import { enforcements, severities } from './define-rule.js';
import type { Rule } from './types.js';

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

// A rule written in CEL: the same keys as a built-in's, with `expression` (and an optional
// `message`) in place of `use` and `params`, and an id it cannot take from a built-in.
const celRuleSchema = {
  ...ruleSchema,
  description: 'a CEL rule such as { id: cool, expression: node.load < 0.8 }',
  required: ['id', 'expression'],
  properties: (({ use: _use, params: _params, ...rest }) => ({
    ...rest,
    expression: { type: 'string', pattern: '\\S', description: 'a CEL expression (a string)' },
    message: { type: 'string', pattern: '\\S', description: 'a CEL string expression' },
  }))(ruleSchema.properties),
} as const;

export interface RawCelRule extends RuleOverrides {
  readonly id: string;
  readonly expression: string;
  readonly message?: string;
  readonly description?: string;
}

export interface RawRule extends RuleOverrides {
  readonly use: string;
  readonly params: Record<string, unknown>;
}

export const validatePolicyShape = ajv.compile<{ version: string; rules: unknown[] }>(policySchema);
export const validateRuleShape = ajv.compile<RawRule>(ruleSchema);
export const validateCelRuleShape = ajv.compile<RawCelRule>(celRuleSchema);

const label = { type: 'string', minLength: 1, description: 'a non-empty string' } as const;
const strings = (item: object) =>
  ({
    type: 'array',
    minItems: 1,
    items: item,
    description: 'a non-empty array of strings',
  }) as const;

// Each built-in's parameters by name, and how they map onto the factory's arguments.
export const builtinParams: Record<
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
  trustAtLeast: {
    validate: paramsSchema({
      min: { type: 'number', minimum: 0, maximum: 1, description: 'a number between 0 and 1' },
    }),
    create: (p, o) => builtinRules.trustAtLeast(p.min as number, o),
  },
};

export type Params = Record<string, unknown>;

function paramsSchema(properties: Record<string, object>): ValidateFunction {
  return ajv.compile({
    type: 'object',
    description: "an object of the built-in's parameters",
    additionalProperties: false,
    required: Object.keys(properties),
    properties,
  });
}

export const builtinNames = Object.keys(builtinParams).join(', ');
export const overrideKeys = [
  'id',
  'description',
  'severity',
  'category',
  'enforcement',
  'for',
  'admission',
  'onError',
] as const;

/** ajv's first error as a policy path and a sentence. */
export function schemaError(
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
