import { Ajv, type ErrorObject } from 'ajv';
import { show } from '../show.js';
import { nodeIdPattern } from '../telemetry/index.js';
import { type DurableState, stateFormatVersion } from './types.js';

// The state file is read once per start, but it is an input like any other: one compiled
// JSON Schema, as for heartbeats (src/telemetry/schemas.ts). Union types spell "number or
// null" for the deadlines a node may not have.
const ajv = new Ajv({ allErrors: false, strict: true, strictNumbers: true, allowUnionTypes: true });

// Every number has a range: a value out of it is a damaged or hand-edited file, and some do
// lasting harm (a seq near 2^60 refused every heartbeat of its node for good). Times are ms
// since the epoch, within what a Date can hold; counts are per node or per state directory and
// a billion is far past any real one.
/** @internal The latest time a Date can hold (ms), the bound of every time in the state. */
export const maxTime = 8.64e15;
/** @internal The bound of every count in the state (isolations, escalation, boots). */
export const maxCount = 1e9;
const time = { type: 'number', minimum: 0, maximum: maxTime } as const;
const deadline = { type: ['number', 'null'], minimum: 0, maximum: maxTime } as const;
const count = { type: 'integer', minimum: 0, maximum: maxCount } as const;
const ids = { type: 'array', items: { type: 'string' } } as const;

// Properties not listed here are allowed: a field that older readers can ignore needs no new
// version; a change they cannot ignore raises `stateFormatVersion` and adds a migration.
const durableNodeSchema = {
  type: 'object',
  required: [
    'id',
    'labels',
    'registeredAt',
    'state',
    'since',
    'reason',
    'isolations',
    'reinstateAt',
    'probationUntil',
    'escalation',
    'seq',
  ],
  properties: {
    id: { type: 'string', pattern: nodeIdPattern },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    version: { type: 'string' },
    registeredAt: time,
    state: { enum: ['online', 'overloaded', 'isolated', 'offline'] },
    since: time,
    reason: { type: 'string' },
    isolations: count,
    reinstateAt: deadline,
    probationUntil: deadline,
    escalation: count,
    // What a heartbeat may carry (src/telemetry/schemas.ts), so a later one can still pass it.
    seq: { type: 'integer', minimum: -1, maximum: Number.MAX_SAFE_INTEGER },
    epoch: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    licence: { type: 'string', maxLength: 8192 },
  },
} as const;

const revocationSchema = {
  type: 'object',
  required: ['licenceId', 'reason', 'at'],
  properties: {
    licenceId: { type: 'string', minLength: 1, maxLength: 256 },
    reason: { type: 'string' },
    at: time,
  },
} as const;

const exemptionSchema = {
  type: 'object',
  required: ['id', 'ruleId', 'until', 'reason'],
  properties: {
    id: { type: 'string' },
    ruleId: { type: 'string' },
    nodeId: { type: 'string' },
    selector: {
      type: 'object',
      additionalProperties: { type: ['string', 'array'], items: { type: 'string' } },
    },
    until: time,
    reason: { type: 'string' },
  },
} as const;

/** The JSON Schema of the state file, version 1. */
export const stateSchema = {
  $id: 'wyneos/state',
  type: 'object',
  required: [
    'format',
    'version',
    'savedAt',
    'boots',
    'policyVersion',
    'nodes',
    'overrides',
    'exemptions',
  ],
  properties: {
    format: { const: 'wyneos-state' },
    version: { const: stateFormatVersion },
    savedAt: time,
    boots: count,
    policyVersion: { type: 'string' },
    nodes: { type: 'array', items: durableNodeSchema },
    overrides: {
      type: 'object',
      required: ['protected', 'pinned'],
      properties: { protected: ids, pinned: ids },
    },
    exemptions: { type: 'array', items: exemptionSchema },
    revocations: { type: 'array', items: revocationSchema },
  },
} as const;

const validateStateShape = ajv.compile<DurableState>(stateSchema);

/**
 * @internal What is wrong with a value that should be a durable state of the current version,
 * as a phrase that follows the file's name ("is invalid at /nodes/3/state: ..."), or undefined
 * when nothing is.
 */
export function stateProblem(value: unknown): string | undefined {
  if (validateStateShape(value)) return duplicateNodeProblem(value);
  return `is invalid at ${describe(validateStateShape.errors?.[0], value)}`;
}

function describe(error: ErrorObject | undefined, value: unknown): string {
  if (error === undefined) return '/';
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') {
    return `${error.instancePath}/${String(params.missingProperty)}: is required`;
  }
  const problem = `${error.instancePath || '/'}: ${error.message ?? 'is invalid'}`;
  const found = valueAt(value, error.instancePath);
  return typeof found === 'object' && found !== null ? problem : `${problem} (got ${show(found)})`;
}

function valueAt(value: unknown, pointer: string): unknown {
  let at = value;
  for (const segment of pointer.split('/').slice(1)) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[segment.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return at;
}

function duplicateNodeProblem(state: DurableState): string | undefined {
  const seen = new Set<string>();
  for (const [index, node] of state.nodes.entries()) {
    if (seen.has(node.id)) return `is invalid at /nodes/${index}/id: node '${node.id}' is twice`;
    seen.add(node.id);
  }
  return undefined;
}

// migrations[n] turns a state of format version n into version n + 1, so a file of any older
// version loads by chaining them. Empty while version 1 is the only format.
const migrations: Readonly<
  Record<number, (state: Record<string, unknown>) => Record<string, unknown>>
> = {};

/**
 * @internal Brings a state written in an older format up to `stateFormatVersion`. The caller
 * has checked that `version` is a positive integer no newer than the current one.
 */
export function migrate(raw: Record<string, unknown>, version: number): Record<string, unknown> {
  let state = raw;
  for (let from = version; from < stateFormatVersion; from++) {
    const step = migrations[from];
    // A release that raises the version without adding its migration is a bug in wyneos.
    if (step === undefined) throw new Error(`No migration from state format version ${from}`);
    state = step(state);
  }
  return state;
}
