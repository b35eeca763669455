import { type ErrorCode, errorCodes } from '../errors.js';
import { heartbeatSchema, registrationSchema } from '../telemetry/index.js';
import { statusByCode } from './error-reply.js';

// The schemas the replies share, each with an `$id`: the plugin adds them to fastify (which
// serialises with them) and @fastify/swagger renders them as the document's components. A
// property left out here is dropped from the reply, so objects are closed
// (`additionalProperties: false`) wherever their shape is ours.

const nodeStates = ['online', 'overloaded', 'isolated', 'offline'];
const actionTypes = ['isolate', 'reduce-load', 'reinstate', 'warn', 'recover', 'propagate'];
const origins = ['healing', 'governance', 'operator', 'licence'];
const licenceStatuses = ['valid', 'expiring', 'expired', 'revoked', 'invalid'];

export const text = { type: 'string' } as const;
const number = { type: 'number' } as const;
export const integer = { type: 'integer' } as const;
export const open = { type: 'object', additionalProperties: true } as const;
export const ref = (id: string) => ({ $ref: `${id}#` });

export function closed(required: readonly string[], properties: Record<string, object>) {
  return { type: 'object', additionalProperties: false, required, properties } as const;
}

const node = {
  $id: 'wyneos.node',
  description: 'A node as the supervisor sees it (times in ms on its clock).',
  ...closed(
    [
      'id',
      'state',
      'since',
      'reason',
      'isolations',
      'escalation',
      'labels',
      'registeredAt',
      'load',
      'metrics',
      'suspicion',
      'trust',
    ],
    {
      id: text,
      state: { type: 'string', enum: nodeStates },
      since: number,
      reason: text,
      isolations: integer,
      reinstateAt: number,
      probationUntil: number,
      escalation: integer,
      labels: { type: 'object', additionalProperties: text },
      version: text,
      registeredAt: number,
      load: number,
      metrics: { type: 'object', additionalProperties: number },
      seq: integer,
      lastHeartbeatAt: number,
      suspicion: number,
      trust: number,
    },
  ),
};

const pendingAction = {
  $id: 'wyneos.pending-action',
  description: 'An action decided for a node, handed out once with its next heartbeat reply.',
  ...closed(['id', 'type', 'reason', 'at', 'tick'], {
    id: text,
    type: { type: 'string', enum: actionTypes },
    reason: text,
    at: number,
    tick: integer,
    ruleId: text,
  }),
};

const heartbeatReply = {
  $id: 'wyneos.heartbeat-reply',
  description: 'How the supervisor sees the node now, and what it should do.',
  ...closed(['nodeId', 'state', 'since', 'reason', 'boot', 'actions'], {
    nodeId: text,
    state: { type: 'string', enum: nodeStates },
    since: number,
    reason: text,
    boot: integer,
    actions: { type: 'array', items: ref('wyneos.pending-action') },
    licence: closed(['id', 'status', 'expiresAt'], {
      id: text,
      status: { type: 'string', enum: licenceStatuses },
      expiresAt: number,
      reason: text,
    }),
  }),
};

const transition = {
  $id: 'wyneos.transition',
  ...closed(['nodeId', 'from', 'to', 'reason', 'at', 'tick'], {
    nodeId: text,
    from: { type: 'string', enum: nodeStates },
    to: { type: 'string', enum: nodeStates },
    reason: text,
    at: number,
    tick: integer,
  }),
};

const cause = closed(['origin', 'reason'], {
  origin: { type: 'string', enum: origins },
  reason: text,
  ruleId: text,
  predictive: { type: 'boolean' },
});

const loggedAction = {
  $id: 'wyneos.action',
  description: 'One step of an action, with its cursor in the server log.',
  ...closed(['id', 'type', 'nodeId', 'reason', 'tick', 'at', 'status', 'origin', 'cursor'], {
    id: text,
    type: { type: 'string', enum: actionTypes },
    nodeId: text,
    reason: text,
    tick: integer,
    at: number,
    ruleId: text,
    predictive: { type: 'boolean' },
    causes: { type: 'array', items: cause },
    status: { type: 'string', enum: ['proposed', 'applied', 'held', 'failed'] },
    origin: { type: 'string', enum: origins },
    heldBy: text,
    error: text,
    output: { description: 'what the hook that carried it out returned' },
    attempts: integer,
    cursor: integer,
  }),
};

const nodeLicence = {
  $id: 'wyneos.node-licence',
  ...closed(['nodeId', 'licence', 'status'], {
    nodeId: text,
    licence: { ...open, description: "the licence's claims" },
    status: { type: 'string', enum: licenceStatuses },
    reason: text,
    gateAt: number,
  }),
};

const revocation = {
  $id: 'wyneos.revocation',
  ...closed(['licenceId', 'reason', 'at'], { licenceId: text, reason: text, at: number }),
};

/** The codes each error status answers, from the one table that maps codes to statuses. */
function codesByStatus(): Map<number, ErrorCode[]> {
  const byStatus = new Map<number, ErrorCode[]>([
    [415, ['WYNEOS_ERR_INVALID_REQUEST']],
    [500, ['WYNEOS_ERR_INTERNAL']],
  ]);
  for (const code of Object.keys(errorCodes) as ErrorCode[]) {
    const status = statusByCode[code];
    if (status === undefined) continue;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return byStatus;
}

/** The codes each error status may carry. */
export const errorCodesByStatus = codesByStatus();

const errorSchemas = [...errorCodesByStatus].map(([status, codes]) => ({
  $id: `wyneos.error-${status}`,
  description: `An error answered with status ${status}: ${codes.join(', ')} (see docs/errors.md).`,
  ...closed(['error'], {
    error: closed(['code', 'message', 'path'], {
      code: { type: 'string', enum: codes },
      message: text,
      path: { type: 'string', description: 'a JSON pointer into the body, `:param` or `?query`' },
      boot: { type: 'integer', description: 'with WYNEOS_ERR_HEARTBEAT_RESYNC: the boot to send' },
    }),
  }),
}));

/** Every schema the routes and the document refer to by `$id`; the plugin adds each one. */
export const sharedSchemas: readonly { readonly $id: string }[] = [
  registrationSchema,
  heartbeatSchema,
  node,
  pendingAction,
  heartbeatReply,
  transition,
  loggedAction,
  nodeLicence,
  revocation,
  ...errorSchemas,
];
