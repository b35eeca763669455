import { Ajv } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

type FastifyValidationResult = ReturnType<FastifySchemaCompiler<object>>;

import { nodeIdPattern, registrationSchema, wellFormedPattern } from '../telemetry/index.js';

/** The most heartbeats one request may carry. */
export const maxBatch = 1000;

// Bodies are checked as strictly as the in-process API checks them: no type coercion and no
// silent removal of unknown properties (fastify's default ajv does both). Query strings and
// path parameters arrive as text, so their validator coerces.
const bodies = new Ajv({ allErrors: false, strict: true, strictNumbers: true });
bodies.addSchema(registrationSchema);
const textParts = new Ajv({ allErrors: false, strict: true, coerceTypes: true });

/** The validator compiler of every wyneos route. */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  if (httpPart !== 'body') return decimalIntegers(schema, textParts.compile(schema));
  const validate = bodies.compile(schema);
  // A body whose every property is optional may be left out (an isolation without a reason);
  // fastify hands a missing body to the validator as null.
  if ('required' in schema || !('properties' in schema)) return validate;
  const optional: FastifyValidationResult = (data: unknown) => {
    if (data === null || data === undefined) return true;
    const ok = validate(data);
    optional.errors = validate.errors ?? null;
    return ok;
  };
  return optional;
};

// ajv's coercion reads `1e400` as Infinity (which then passed the maximum), and takes `0x10`,
// ` 5` and `1.0` as numbers too. A whole number in a query or path is plain decimal digits, at
// most 16 of them: always finite, and the schema's bounds say the rest.
const decimal = /^-?[0-9]{1,16}$/;

function decimalIntegers(
  schema: object,
  validate: FastifyValidationResult,
): FastifyValidationResult {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties;
  const names = Object.entries(properties ?? {})
    .filter(([, property]) => property.type === 'integer')
    .map(([name]) => name);
  if (names.length === 0) return validate;
  const checked: FastifyValidationResult = (data: unknown) => {
    for (const name of names) {
      const value = (data as Record<string, unknown> | null)?.[name];
      if (value !== undefined && (typeof value !== 'string' || !decimal.test(value))) {
        const message = 'must be a whole number in decimal digits';
        checked.errors = [
          { instancePath: `/${name}`, schemaPath: '', keyword: 'type', params: {}, message },
        ];
        return false;
      }
    }
    const ok = validate(data);
    checked.errors = validate.errors ?? null;
    return ok;
  };
  return checked;
}

/**
 * One heartbeat, or an array of 1 to 1,000: only the envelope. Each heartbeat is validated
 * once, by the supervisor's heartbeat path, which also decides what a malformed one costs.
 */
export const heartbeatsBody = {
  if: { type: 'array' },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, never awaited
  then: { type: 'array', minItems: 1, maxItems: maxBatch },
  else: { type: 'object' },
} as const;

export const registrationBody = { $ref: registrationSchema.$id } as const;

export const reasonBody = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

export const revokeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: { reason: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

export const licenceIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 256, pattern: wellFormedPattern } },
} as const;

export const switchBody = {
  type: 'object',
  additionalProperties: false,
  properties: { on: { type: 'boolean' } },
} as const;

export const nodeIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: nodeIdPattern } },
} as const;

export const nodesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { type: 'string', enum: ['online', 'overloaded', 'isolated', 'offline'] },
    /** Only nodes registered after this one (the last id of the previous page). */
    after: { type: 'string', pattern: nodeIdPattern },
    limit: { type: 'integer', minimum: 1, maximum: 10_000 },
    /** On NATS: every shard's nodes, each from its holder, not only those held here. */
    fleet: { type: 'boolean' },
  },
} as const;

export const actionsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    limit: { type: 'integer', minimum: 1, maximum: 10_000 },
  },
} as const;
