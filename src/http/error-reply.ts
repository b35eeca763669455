import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  BodyTooLargeError,
  type ErrorCode,
  HeartbeatResyncError,
  InternalError,
  InvalidHeartbeatError,
  InvalidNodeError,
  InvalidRequestError,
  MethodNotAllowedError,
  UnauthenticatedError,
  WyneosError,
} from '../errors.js';
import { describeSchemaError } from '../telemetry/index.js';

/** The body of every error answer. */
export interface ErrorBody {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly path: string;
    /** With `WYNEOS_ERR_HEARTBEAT_RESYNC`: the boot to send the heartbeat again with. */
    readonly boot?: number;
  };
}

/** What a route's body is, so a schema failure gets the error the in-process API would throw. */
export type BodyKind = 'heartbeat' | 'registration' | 'other';

export const statusByCode: Partial<Record<ErrorCode, number>> = {
  WYNEOS_ERR_INVALID_HEARTBEAT: 400,
  WYNEOS_ERR_INVALID_NODE: 400,
  WYNEOS_ERR_INVALID_ARGUMENT: 400,
  WYNEOS_ERR_INVALID_REQUEST: 400,
  WYNEOS_ERR_UNAUTHENTICATED: 401,
  WYNEOS_ERR_FORBIDDEN: 403,
  WYNEOS_ERR_ADMISSION_DENIED: 403,
  WYNEOS_ERR_LICENCE_REFUSED: 403,
  WYNEOS_ERR_UNKNOWN_NODE: 404,
  WYNEOS_ERR_NO_ROUTE: 404,
  WYNEOS_ERR_METHOD_NOT_ALLOWED: 405,
  WYNEOS_ERR_DUPLICATE_NODE: 409,
  WYNEOS_ERR_STALE_HEARTBEAT: 409,
  WYNEOS_ERR_HEARTBEAT_RESYNC: 409,
  WYNEOS_ERR_SETTINGS_CONFLICT: 409,
  WYNEOS_ERR_HELD_ELSEWHERE: 409,
  WYNEOS_ERR_BODY_TOO_LARGE: 413,
  WYNEOS_ERR_RATE_LIMITED: 429,
  WYNEOS_ERR_NOT_STARTED: 503,
  WYNEOS_ERR_STOPPED: 503,
  WYNEOS_ERR_STORAGE_DEGRADED: 503,
  WYNEOS_ERR_TOO_MANY_STREAMS: 503,
  WYNEOS_ERR_NO_HOLDER: 503,
  // 503, not 409: the fleet's capacity is what refuses, not the node the request names, and
  // agents retry a 5xx with backoff, so a node joins by itself once there is room.
  WYNEOS_ERR_FLEET_FULL: 503,
};

/**
 * Turns whatever a request ran into (a schema failure, a fastify body-parsing error, a
 * WyneosError) into a status and an ErrorBody. Anything else is a bug: 500, cause logged.
 */
export function toWyneosError(
  error: unknown,
  request: FastifyRequest,
  bodyKind: BodyKind,
  bodyLimit: number,
): { status: number; error: WyneosError } {
  if (error instanceof WyneosError) {
    return { status: statusByCode[error.code] ?? 500, error };
  }
  const fastifyError = error as Partial<FastifyError> | undefined;
  if (fastifyError?.validation !== undefined) {
    return { status: 400, error: fromValidation(fastifyError as FastifyError, request, bodyKind) };
  }
  switch (fastifyError?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, error: new BodyTooLargeError(bodyLimit) };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        error: new InvalidRequestError(
          '',
          'send the body as JSON (Content-Type: application/json)',
        ),
      };
  }
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own client errors: a body that is not JSON, an empty JSON body, a bad length.
    const message = typeof fastifyError?.message === 'string' ? fastifyError.message : '';
    return { status, error: new InvalidRequestError('', message.slice(0, 200) || 'bad request') };
  }
  return { status: 500, error: new InternalError({ cause: error }) };
}

function fromValidation(
  error: FastifyError,
  request: FastifyRequest,
  bodyKind: BodyKind,
): WyneosError {
  const part = error.validationContext;
  const data = part === 'body' ? request.body : part === 'params' ? request.params : request.query;
  const first = error.validation?.[0];
  const { path, problem } = describeSchemaError(
    first as Parameters<typeof describeSchemaError>[0],
    data,
  );
  if (part === 'body') {
    if (bodyKind === 'heartbeat') return new InvalidHeartbeatError(path, problem);
    if (bodyKind === 'registration') return new InvalidNodeError(path, problem);
    return new InvalidRequestError(path, problem);
  }
  // Path parameters as `:id`, query parameters as `?since`.
  const name = path.split('/')[1] ?? '';
  return new InvalidRequestError(part === 'params' ? `:${name}` : `?${name}`, problem);
}

const bearerRealm = 'Bearer realm="wyneos"';
const invalidToken = 'Bearer realm="wyneos", error="invalid_token"';

/** Sends an error answer. */
export function sendError(reply: FastifyReply, status: number, error: WyneosError): FastifyReply {
  const path = 'path' in error && typeof error.path === 'string' ? error.path : '';
  // Rate limited, storage degraded, too many streams; or one of them passed back by the holder
  // of a node another supervisor forwarded the request to (NATS).
  const { retryAfterMs } = error as { retryAfterMs?: unknown };
  if (typeof retryAfterMs === 'number') {
    reply.header('retry-after', Math.max(1, Math.ceil(retryAfterMs / 1000)));
  }
  if (error instanceof UnauthenticatedError) {
    // RFC 9110 asks every 401 to name its scheme; RFC 6750 adds the error once a token was sent.
    const sent = /^bearer /i.test(reply.request.headers.authorization ?? '');
    reply.header('www-authenticate', sent ? invalidToken : bearerRealm);
  }
  if (error instanceof MethodNotAllowedError) reply.header('allow', error.allowed.join(', '));
  const boot = error instanceof HeartbeatResyncError ? { boot: error.boot } : {};
  const body: ErrorBody = { error: { code: error.code, message: error.message, path, ...boot } };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}
