/**
 * Every error wyneos throws on purpose, with a stable code, in one registry (like fastify's
 * `lib/errors.js`). A retired code is never reused; `docs/errors.md` documents each one and a
 * test keeps the two in step.
 */
export const errorCodes = {
  WYNEOS_ERR_INVALID_OPTIONS: 'an option passed to createSupervisor is invalid',
  WYNEOS_ERR_INVALID_RULE: 'a rule definition is invalid',
  WYNEOS_ERR_DUPLICATE_RULE: 'two rules share one id',
  WYNEOS_ERR_INVALID_POLICY: 'a policy or policy file is invalid',
  WYNEOS_ERR_ADMISSION_DENIED: 'a node failed the admission rules and was refused',
  WYNEOS_ERR_INVALID_EXEMPTION: 'an exemption is invalid',
  WYNEOS_ERR_INVALID_NODE: 'a node registration is invalid',
  WYNEOS_ERR_DUPLICATE_NODE: 'a node with this id is already registered',
  WYNEOS_ERR_UNKNOWN_NODE: 'no node with this id is registered',
  WYNEOS_ERR_INVALID_HEARTBEAT: 'a heartbeat is malformed',
  WYNEOS_ERR_STALE_HEARTBEAT: "a heartbeat's (epoch, seq) is not newer than the last one accepted",
  WYNEOS_ERR_HEARTBEAT_RESYNC:
    'the supervisor restarted: a heartbeat must carry its current boot before it is taken',
  WYNEOS_ERR_NOT_STARTED: 'the supervisor has not been started',
  WYNEOS_ERR_TICK_IN_PROGRESS: 'a tick was requested while one is running',
  WYNEOS_ERR_STOPPED: 'the supervisor has been stopped',
  WYNEOS_ERR_INVALID_ARGUMENT: 'an argument to an API call or a command-line flag is invalid',
  WYNEOS_ERR_STATE_CORRUPT: 'the saved state is corrupt or unreadable',
  WYNEOS_ERR_STATE_VERSION: 'the saved state was written in a format this release cannot read',
  WYNEOS_ERR_STORAGE: 'reading or writing the state directory failed',
  WYNEOS_ERR_STORAGE_DEGRADED:
    'a write to the state store or audit log failed: changes are refused until it recovers',
  WYNEOS_ERR_STATE_LOCKED: 'another supervisor holds the state directory',
  WYNEOS_ERR_INVALID_REQUEST: 'an HTTP request is malformed (its body, query or path)',
  WYNEOS_ERR_BODY_TOO_LARGE: 'an HTTP request body is over the size limit',
  WYNEOS_ERR_NO_ROUTE: 'no HTTP route matches the method and path',
  WYNEOS_ERR_METHOD_NOT_ALLOWED: 'an HTTP path exists, but not with the method the request used',
  WYNEOS_ERR_UNAUTHENTICATED: 'an HTTP request carries no valid token',
  WYNEOS_ERR_FORBIDDEN: "an HTTP request's token does not allow what it asks",
  WYNEOS_ERR_RATE_LIMITED: 'a node sends heartbeats faster than the configured rate',
  WYNEOS_ERR_INTERNAL: 'the server failed unexpectedly while answering a request',
  WYNEOS_ERR_LICENCE_REFUSED: "a node's licence is missing, invalid, revoked, or not for it",
  WYNEOS_ERR_NATS: 'connecting to NATS, or a request to it, failed',
  WYNEOS_ERR_NATS_UNSUPPORTED:
    'the NATS server lacks a feature wyneos needs (too old, or no JetStream)',
  WYNEOS_ERR_LEASE_LOST: 'a write was fenced off: another supervisor holds the shard now',
  WYNEOS_ERR_TOO_MANY_STREAMS: 'the server already serves as many event streams as it allows',
  WYNEOS_ERR_FLEET_FULL: 'registering would take the fleet past the maxNodes cap',
  WYNEOS_ERR_BATCH_REFUSED:
    'a heartbeat of an all-or-nothing batch was not taken because another one was refused',
  WYNEOS_ERR_INVALID_TRACE:
    'a trace directory holds no readable segment, or one in a format this release cannot read',
  WYNEOS_ERR_INVALID_CONDITION: 'a --fail-if condition is malformed',
  WYNEOS_ERR_RELAY_FULL: "a relay's queue for a shard is full: the heartbeat was not queued",
  WYNEOS_ERR_HELD_ELSEWHERE:
    'a command for a node of a shard another supervisor holds: it goes to that one',
  WYNEOS_ERR_SETTINGS_CONFLICT:
    'another supervisor changed a shared setting (the policy) since this one read it',
  WYNEOS_ERR_NO_HOLDER: "no supervisor holding a node's shard answered a forwarded request in time",
} as const;

/** The stable code of a {@link WyneosError}, such as `WYNEOS_ERR_UNKNOWN_NODE` (docs/errors.md). */
export type ErrorCode = keyof typeof errorCodes;

/** The base of every error wyneos throws on purpose: check `code`, not the message. */
export class WyneosError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One or more options given to `createSupervisor` are invalid; `path` names the option. */
export class InvalidOptionsError extends WyneosError {
  readonly path: string;

  constructor(path: string, problem: string) {
    super('WYNEOS_ERR_INVALID_OPTIONS', `Invalid supervisor option ${path}: ${problem}`);
    this.path = path;
  }
}

/** A rule is malformed; `ruleId` is the rule's id when it has one. */
export class InvalidRuleError extends WyneosError {
  readonly ruleId: string | undefined;

  constructor(ruleId: string | undefined, problem: string) {
    super('WYNEOS_ERR_INVALID_RULE', `Invalid rule${ruleId ? ` '${ruleId}'` : ''}: ${problem}`);
    this.ruleId = ruleId;
  }
}

export class DuplicateRuleError extends WyneosError {
  readonly ruleId: string;

  constructor(ruleId: string) {
    super(
      'WYNEOS_ERR_DUPLICATE_RULE',
      `Two rules have the id '${ruleId}': rule ids must be unique`,
    );
    this.ruleId = ruleId;
  }
}

/**
 * A policy is invalid; `path` says where, in the notation of the policy file
 * (`rules[2].params.max`), and `source` names the file when there is one.
 */
export class InvalidPolicyError extends WyneosError {
  readonly path: string;
  readonly source: string | undefined;
  /** Where in the file, 1-based, when it is known (a CEL expression's mistake). */
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(
    path: string,
    problem: string,
    source?: string,
    position?: { readonly line: number; readonly column: number },
  ) {
    const where = position ? ` (line ${position.line}, column ${position.column})` : '';
    super(
      'WYNEOS_ERR_INVALID_POLICY',
      `Invalid policy${source ? ` in ${source}` : ''}${path ? ` at ${path}` : ''}${where}: ${problem}`,
    );
    this.path = path;
    this.source = source;
    this.line = position?.line;
    this.column = position?.column;
  }
}

/** One admission rule a node failed. */
export interface AdmissionFailure {
  readonly nodeId: string;
  readonly ruleId: string;
  readonly message: string;
}

/** Nodes failed admission rules and were refused; `failures` lists every failed rule. */
export class AdmissionDeniedError extends WyneosError {
  readonly failures: readonly AdmissionFailure[];

  constructor(failures: readonly AdmissionFailure[]) {
    super(
      'WYNEOS_ERR_ADMISSION_DENIED',
      `Admission denied: ${failures.map((f) => `${f.nodeId} fails ${f.ruleId} (${f.message})`).join('; ')}`,
    );
    this.failures = failures;
  }
}

/** An exemption is malformed; `field` names the part that is wrong. */
export class InvalidExemptionError extends WyneosError {
  readonly field: string;

  constructor(field: string, problem: string) {
    super('WYNEOS_ERR_INVALID_EXEMPTION', `Invalid exemption ${field}: ${problem}`);
    this.field = field;
  }
}

/** A registration is malformed; `path` points into it (for example `/labels/region`). */
export class InvalidNodeError extends WyneosError {
  readonly path: string;

  constructor(path: string, problem: string) {
    super('WYNEOS_ERR_INVALID_NODE', `Invalid node registration at ${path || '/'}: ${problem}`);
    this.path = path;
  }
}

export class DuplicateNodeError extends WyneosError {
  readonly nodeId: string;

  constructor(nodeId: string) {
    super(
      'WYNEOS_ERR_DUPLICATE_NODE',
      `Node '${nodeId}' is already registered: deregister it first to register it again`,
    );
    this.nodeId = nodeId;
  }
}

export class UnknownNodeError extends WyneosError {
  readonly nodeId: string;

  constructor(nodeId: string) {
    super('WYNEOS_ERR_UNKNOWN_NODE', `No node '${nodeId}' is registered: register it first`);
    this.nodeId = nodeId;
  }
}

/** A heartbeat is malformed; `path` points into it (for example `/load`). */
export class InvalidHeartbeatError extends WyneosError {
  readonly path: string;
  readonly problem: string;

  constructor(path: string, problem: string) {
    super('WYNEOS_ERR_INVALID_HEARTBEAT', `Invalid heartbeat at ${path || '/'}: ${problem}`);
    this.path = path;
    this.problem = problem;
  }

  /** The same error, its path under `prefix` (such as `/3` for a batch's fourth heartbeat). */
  within(prefix: string): InvalidHeartbeatError {
    return new InvalidHeartbeatError(prefix + this.path, this.problem);
  }
}

/**
 * A heartbeat of an all-or-nothing batch that was not taken because another of the batch, at
 * `index`, was refused. It was not checked past that point and changed nothing.
 */
export class BatchRefusedError extends WyneosError {
  readonly index: number;

  constructor(index: number) {
    super(
      'WYNEOS_ERR_BATCH_REFUSED',
      `Heartbeat not taken: heartbeat ${index} of its all-or-nothing batch was refused`,
    );
    this.index = index;
  }
}

/** The heartbeat is older than or the same as one already accepted; it was dropped. */
export class StaleHeartbeatError extends WyneosError {
  readonly nodeId: string;
  readonly seq: number;
  readonly lastSeq: number;

  constructor(nodeId: string, seq: number, lastSeq: number, epoch = 0, lastEpoch = 0) {
    super(
      'WYNEOS_ERR_STALE_HEARTBEAT',
      epoch < lastEpoch
        ? `Stale heartbeat from '${nodeId}': epoch ${epoch} is older than ${lastEpoch}`
        : `Stale heartbeat from '${nodeId}': seq ${seq} is not newer than ${lastSeq}`,
    );
    this.nodeId = nodeId;
    this.seq = seq;
    this.lastSeq = lastSeq;
  }
}

/**
 * The supervisor restarted since this node was last heard, and the heartbeat does not carry the
 * current `boot`: it may be one sent before the restart, replayed. Send it again with `boot`
 * and the next seq.
 */
export class HeartbeatResyncError extends WyneosError {
  readonly nodeId: string;
  /** The supervisor's current boot, to send as the heartbeat's `boot`. */
  readonly boot: number;

  constructor(nodeId: string, boot: number) {
    super(
      'WYNEOS_ERR_HEARTBEAT_RESYNC',
      `Heartbeat from '${nodeId}' refused: the supervisor restarted; send it again with boot ${boot} and the next seq`,
    );
    this.nodeId = nodeId;
    this.boot = boot;
  }
}

export class NotStartedError extends WyneosError {
  constructor(operation: string) {
    super('WYNEOS_ERR_NOT_STARTED', `Cannot ${operation}: call start() on the supervisor first`);
  }
}

/** `tick()` was called from code the tick itself runs (a stream subscriber, say). */
export class TickInProgressError extends WyneosError {
  constructor() {
    super(
      'WYNEOS_ERR_TICK_IN_PROGRESS',
      'Cannot tick: a tick is in progress (tick() was called from inside one, for example from a subscriber)',
    );
  }
}

export class SupervisorStoppedError extends WyneosError {
  constructor(operation: string) {
    super('WYNEOS_ERR_STOPPED', `Cannot ${operation}: the supervisor has been stopped`);
  }
}

/** An argument to an API call, or a command-line flag, is invalid; `argument` names it. */
export class InvalidArgumentError extends WyneosError {
  readonly argument: string;

  constructor(argument: string, problem: string) {
    super('WYNEOS_ERR_INVALID_ARGUMENT', `Invalid ${argument}: ${problem}`);
    this.argument = argument;
  }
}

/**
 * The saved state cannot be used: `file` names the state file, and the message says what is
 * wrong with it (and with the last good copy, when that was tried too).
 */
export class StateCorruptError extends WyneosError {
  readonly file: string;

  constructor(file: string, message: string, options?: ErrorOptions) {
    super('WYNEOS_ERR_STATE_CORRUPT', message, options);
    this.file = file;
  }
}

/** `file` was written in format `version`, newer than the newest this release reads. */
export class StateVersionError extends WyneosError {
  readonly file: string;
  readonly version: number;
  readonly supported: number;

  constructor(file: string, version: number, supported: number) {
    super(
      'WYNEOS_ERR_STATE_VERSION',
      `State file ${file} has format version ${version}, but this release of wyneos reads versions up to ${supported}: upgrade wyneos, or start with another --state-dir`,
    );
    this.file = file;
    this.version = version;
    this.supported = supported;
  }
}

/** An I/O operation on the state directory failed; `file` names the file, `cause` the system error. */
export class StorageError extends WyneosError {
  readonly file: string;

  constructor(file: string, message: string, options?: ErrorOptions) {
    super('WYNEOS_ERR_STORAGE', message, options);
    this.file = file;
  }
}

/**
 * A write to the state store or the audit log failed (a full disk, a read-only directory, a
 * store that is away), so the supervisor is read-only until a retry succeeds: changes are
 * refused before they touch anything. `applied` is true only for the one command whose own
 * write failed: its change stays in memory and is saved with the retry, but was not durable
 * when this was thrown. Ask again after `retryAfterMs`.
 */
export class StorageDegradedError extends WyneosError {
  readonly retryAfterMs: number;
  readonly applied: boolean;

  constructor(
    operation: string,
    problem: string,
    retryAfterMs: number,
    applied: boolean,
    options?: ErrorOptions,
  ) {
    super(
      'WYNEOS_ERR_STORAGE_DEGRADED',
      `Cannot ${operation} durably: storage is degraded (${problem}); ${
        applied
          ? 'the change is held in memory and saved once storage recovers'
          : 'nothing was changed'
      }. Retry in ${Math.ceil(retryAfterMs / 1000)} s`,
      options,
    );
    this.retryAfterMs = retryAfterMs;
    this.applied = applied;
  }
}

/** The holder of a state directory's lock, as its lock file names it. */
export interface StateLockHolder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

/**
 * Another supervisor holds the state directory (`lockFile`); `holder` is what its lock file says,
 * or undefined when the file cannot be read.
 */
export class StateLockedError extends WyneosError {
  readonly lockFile: string;
  readonly holder: StateLockHolder | undefined;

  constructor(lockFile: string, holder: StateLockHolder | undefined, problem: string) {
    super('WYNEOS_ERR_STATE_LOCKED', `State directory locked: ${problem}`);
    this.lockFile = lockFile;
    this.holder = holder;
  }
}

/**
 * An HTTP request is malformed: not JSON, of another media type, or its query or path is
 * invalid; `path` points into the part that is wrong.
 */
export class InvalidRequestError extends WyneosError {
  readonly path: string;

  constructor(path: string, problem: string) {
    super('WYNEOS_ERR_INVALID_REQUEST', `Invalid request${path ? ` at ${path}` : ''}: ${problem}`);
    this.path = path;
  }
}

/** An HTTP request body is larger than the server accepts (`limit`, in bytes). */
export class BodyTooLargeError extends WyneosError {
  readonly limit: number;

  constructor(limit: number) {
    super(
      'WYNEOS_ERR_BODY_TOO_LARGE',
      `Request body too large: the limit is ${limit} bytes; send heartbeats in smaller batches`,
    );
    this.limit = limit;
  }
}

/** No route matches the request's method and path. */
export class NoRouteError extends WyneosError {
  constructor(method: string, path: string) {
    super('WYNEOS_ERR_NO_ROUTE', `No route ${method} ${path.slice(0, 200)}`);
  }
}

/** A known HTTP path asked for with a method it does not answer; the 405 carries `Allow`. */
export class MethodNotAllowedError extends WyneosError {
  constructor(
    method: string,
    path: string,
    readonly allowed: readonly string[],
  ) {
    super(
      'WYNEOS_ERR_METHOD_NOT_ALLOWED',
      `Method ${method} not allowed on ${path.slice(0, 200)}: use ${allowed.join(', ')}`,
    );
  }
}

/** An HTTP request has no `Authorization: Bearer <token>`, or a token the server did not issue. */
export class UnauthenticatedError extends WyneosError {
  constructor(problem: string) {
    super('WYNEOS_ERR_UNAUTHENTICATED', `Unauthenticated: ${problem}`);
  }
}

/** The token is valid but does not allow the request: a node acting as another, or as an operator. */
export class ForbiddenError extends WyneosError {
  constructor(problem: string) {
    super('WYNEOS_ERR_FORBIDDEN', `Forbidden: ${problem}`);
  }
}

/** A node sent heartbeats faster than allowed; it may send again after `retryAfterMs`. */
export class RateLimitedError extends WyneosError {
  readonly nodeId: string;
  readonly retryAfterMs: number;

  constructor(nodeId: string, retryAfterMs: number) {
    super(
      'WYNEOS_ERR_RATE_LIMITED',
      `Node '${nodeId}' sends heartbeats faster than allowed: retry in ${retryAfterMs} ms`,
    );
    this.nodeId = nodeId;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * The server failed while answering a request: a bug, never the client's doing. The answer
 * says only this; the log has the cause.
 */
export class InternalError extends WyneosError {
  constructor(options?: ErrorOptions) {
    super('WYNEOS_ERR_INTERNAL', 'Internal error: the server log has the cause', options);
  }
}

/**
 * A node was refused because of its licence; `reason` says why, one of `missing`,
 * `malformed`, `unknown-key`, `wrong-issuer`, `bad-signature`, `expired`, `not-yet-valid`,
 * `wrong-node`, `region`, `revoked` or `fleet-full` (docs/errors.md explains each).
 */
export class LicenceRefusedError extends WyneosError {
  readonly nodeId: string;
  readonly reason: string;
  readonly licenceId: string | undefined;

  constructor(nodeId: string, reason: string, problem: string, licenceId?: string) {
    super('WYNEOS_ERR_LICENCE_REFUSED', `Licence refused for '${nodeId}' (${reason}): ${problem}`);
    this.nodeId = nodeId;
    this.reason = reason;
    this.licenceId = licenceId;
  }
}

/** Connecting to NATS failed, or a request to it did; `cause` has the client's error. */
export class NatsError extends WyneosError {
  constructor(message: string, options?: ErrorOptions) {
    super('WYNEOS_ERR_NATS', message, options);
  }
}

/**
 * The NATS server cannot do what was asked: no JetStream, or a version older than a feature
 * needs (`feature` names it, `required` is the first server version that has it).
 */
export class NatsUnsupportedError extends WyneosError {
  readonly feature: string;
  readonly serverVersion: string;
  readonly required: string;

  constructor(feature: string, serverVersion: string, required: string) {
    super(
      'WYNEOS_ERR_NATS_UNSUPPORTED',
      `The NATS server (${serverVersion}) cannot ${feature}: that needs nats-server ${required} or later`,
    );
    this.feature = feature;
    this.serverVersion = serverVersion;
    this.required = required;
  }
}

/**
 * A write for a shard this supervisor no longer holds, or holds with a stale fencing token
 * (the lease revision), was refused: another supervisor took the shard over. Nothing was written.
 */
export class LeaseLostError extends WyneosError {
  readonly shard: number;

  constructor(shard: number, problem: string) {
    super('WYNEOS_ERR_LEASE_LOST', `Lease on shard ${shard} lost: ${problem}`);
    this.shard = shard;
  }
}

/**
 * On NATS, a command that only the supervisor holding the node can carry out (isolate,
 * reinstate, deregister) was sent to another: its shard is held elsewhere. Nothing changed. Send
 * it to the holder (`GET /v1/nodes/:id` on any supervisor names it), or check the id.
 */
export class NodeHeldElsewhereError extends WyneosError {
  readonly nodeId: string;
  readonly shard: number;

  constructor(nodeId: string, shard: number) {
    super(
      'WYNEOS_ERR_HELD_ELSEWHERE',
      `Node ${JSON.stringify(nodeId)} is not held by this supervisor: its shard ${shard} is another's. Call it on the supervisor holding it (over HTTP any supervisor forwards it there), or check the id`,
    );
    this.nodeId = nodeId;
    this.shard = shard;
  }
}

/**
 * On NATS, a request for a node held by another supervisor (over HTTP: a read or a command) was
 * forwarded to its shard's holder and none answered within `waitedMs`: the shard is between
 * holders (a handover, a supervisor lost) or its holder is overloaded. `delivered` says whether
 * a supervisor subscribed for the shard got it: if not, nothing was done; if so, a command may
 * still be carried out, so read the node before sending it again. HTTP 503.
 */
export class NoHolderError extends WyneosError {
  readonly nodeId: string;
  readonly shard: number;
  readonly waitedMs: number;
  readonly delivered: boolean;

  constructor(nodeId: string, shard: number, waitedMs: number, delivered: boolean) {
    const outcome = delivered
      ? 'a supervisor subscribed for it did not answer (a command may still be carried out: read the node before sending it again)'
      : 'no supervisor holds it now (a handover?); nothing was done';
    super(
      'WYNEOS_ERR_NO_HOLDER',
      `No holder of shard ${shard} (node ${JSON.stringify(nodeId)}) answered within ${waitedMs} ms: ${outcome}; try again`,
    );
    this.nodeId = nodeId;
    this.shard = shard;
    this.waitedMs = waitedMs;
    this.delivered = delivered;
  }
}

/**
 * On NATS, a change of a fleet-wide setting was refused because another supervisor changed it
 * first (its KV revision moved since this supervisor applied it). Nothing was written: read the
 * setting again and retry. `key` names it (`policy`).
 */
export class SettingsConflictError extends WyneosError {
  readonly key: string;

  constructor(key: string, problem: string) {
    super('WYNEOS_ERR_SETTINGS_CONFLICT', `Shared setting ${key} not changed: ${problem}`);
    this.key = key;
  }
}

/**
 * `GET /v1/events` was refused: `maxClients` streams are open already. Try again after
 * `retryAfterMs`, or raise the cap (`maxSseClients`, `--max-sse-clients`).
 */
export class TooManyStreamsError extends WyneosError {
  readonly maxClients: number;
  readonly retryAfterMs: number;

  constructor(maxClients: number, retryAfterMs: number) {
    super(
      'WYNEOS_ERR_TOO_MANY_STREAMS',
      `Too many event streams: ${maxClients} are open, the most this server allows; retry in ${retryAfterMs} ms`,
    );
    this.maxClients = maxClients;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Registering `requested` more nodes would take the fleet past `maxNodes`; none was
 * registered. Deregister nodes or raise the cap (`maxNodes`, `--max-nodes`).
 */
export class FleetFullError extends WyneosError {
  readonly maxNodes: number;
  readonly requested: number;

  constructor(maxNodes: number, registered: number, requested: number) {
    super(
      'WYNEOS_ERR_FLEET_FULL',
      `Fleet full: ${registered} of at most ${maxNodes} nodes are registered, no room for ${requested} more; nothing was registered`,
    );
    this.maxNodes = maxNodes;
    this.requested = requested;
  }
}

/** `dir` holds no trace this release can replay; the message says why. */
export class InvalidTraceError extends WyneosError {
  readonly dir: string;

  constructor(dir: string, problem: string) {
    super('WYNEOS_ERR_INVALID_TRACE', `Invalid trace ${dir}: ${problem}`);
    this.dir = dir;
  }
}

/** A `--fail-if` condition is malformed: `column` (from 1) says where. */
export class InvalidConditionError extends WyneosError {
  readonly column: number;

  constructor(condition: string, column: number, problem: string) {
    super(
      'WYNEOS_ERR_INVALID_CONDITION',
      `Invalid condition '${condition}' at column ${column}: ${problem}`,
    );
    this.column = column;
  }
}

/**
 * A relay holds `maxQueued` heartbeats for a shard already (NATS is slow or away): this one was
 * not queued, so the sender knows to try again rather than believing it was relayed.
 */
export class RelayFullError extends WyneosError {
  readonly shard: number;
  readonly maxQueued: number;

  constructor(shard: number, maxQueued: number) {
    super(
      'WYNEOS_ERR_RELAY_FULL',
      `Relay full: ${maxQueued} heartbeats of shard ${shard} wait to be published; this one was not queued`,
    );
    this.shard = shard;
    this.maxQueued = maxQueued;
  }
}
