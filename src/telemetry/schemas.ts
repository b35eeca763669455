import { Ajv, type ErrorObject } from 'ajv';
import { show } from '../show.js';
import type { Heartbeat, NodeRegistration } from './types.js';

// One compiled JSON Schema per edge: ajv's generated validators are the fastest option we
// measured for the heartbeat hot path (see ARCHITECTURE.md), and fastify can share them.
const ajv = new Ajv({ allErrors: false, strict: true, strictNumbers: true });

/** Node ids also become NATS subject tokens and URL segments: keep them plain. */
export const nodeIdPattern = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$';
const labelKeyPattern = '^[A-Za-z0-9]([A-Za-z0-9._/-]{0,126}[A-Za-z0-9])?$';
/**
 * Well-formed Unicode: no lone surrogate (a JSON body's `"\ud800"` decodes to one). ajv reads
 * patterns with the `u` flag, where a surrogate pair is one code point outside this range.
 */
export const wellFormedPattern = '^[^\\uD800-\\uDFFF]*$';

// Plain schemas checked against the TypeScript types by the tests: ajv's JSONSchemaType
// cannot express optional-but-not-null under exactOptionalPropertyTypes.
/** The JSON Schema every {@link Heartbeat} is checked against, whichever way it comes in. */
export const heartbeatSchema = {
  $id: 'wyneos/heartbeat',
  type: 'object',
  additionalProperties: false,
  required: ['nodeId', 'seq', 'load'],
  properties: {
    nodeId: { type: 'string', minLength: 1, maxLength: 253, pattern: wellFormedPattern },
    seq: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    epoch: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    boot: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    load: { type: 'number', minimum: 0, maximum: 1 },
    metrics: {
      type: 'object',
      maxProperties: 64,
      propertyNames: { type: 'string', minLength: 1, maxLength: 128, pattern: wellFormedPattern },
      additionalProperties: { type: 'number' },
    },
  },
} as const;

/** The JSON Schema every {@link NodeRegistration} is checked against, whichever way it comes in. */
export const registrationSchema = {
  $id: 'wyneos/registration',
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id: { type: 'string', pattern: nodeIdPattern },
    labels: {
      type: 'object',
      maxProperties: 64,
      propertyNames: { type: 'string', pattern: labelKeyPattern },
      additionalProperties: { type: 'string', maxLength: 256, pattern: wellFormedPattern },
    },
    version: { type: 'string', minLength: 1, maxLength: 64 },
    licence: { type: 'string', minLength: 1, maxLength: 8192 },
  },
} as const;

export const validateHeartbeatShape = ajv.compile<Heartbeat>(heartbeatSchema);
export const validateRegistrationShape = ajv.compile<NodeRegistration>(registrationSchema);

/** Turns ajv's first error into a JSON pointer and a sentence a person can act on. */
export function describeSchemaError(
  error: ErrorObject | undefined,
  input: unknown,
): { path: string; problem: string } {
  if (error === undefined) return { path: '', problem: 'is invalid' };
  const params = error.params as Record<string, unknown>;
  const message =
    error.keyword === 'pattern' && params.pattern === wellFormedPattern
      ? 'must be well-formed Unicode (it holds a lone surrogate)'
      : (error.message ?? 'is invalid');
  if (error.keyword === 'required') {
    return {
      path: `${error.instancePath}/${String(params.missingProperty)}`,
      problem: 'is required',
    };
  }
  if (error.keyword === 'additionalProperties') {
    return {
      path: `${error.instancePath}/${String(params.additionalProperty)}`,
      problem: 'is not an allowed property',
    };
  }
  if (error.propertyName !== undefined) {
    return {
      path: `${error.instancePath}/${error.propertyName}`,
      problem: `is not an allowed name: it ${message}`,
    };
  }
  const value = valueAt(input, error.instancePath);
  return {
    path: error.instancePath,
    problem: `${message} (got ${show(value)})`,
  };
}

function valueAt(input: unknown, pointer: string): unknown {
  let value = input;
  for (const segment of pointer.split('/').slice(1)) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[segment.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return value;
}
