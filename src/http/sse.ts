import type { FastifyInstance } from 'fastify';
import { TooManyStreamsError } from '../errors.js';
import type { RouteContext } from './context.js';
import { errorReplies, replies } from './responses.js';
import { encodeEvent } from './sse-encode.js';

// A refused client is told to come back later than a slot would take to free up on its own.
const retryAfterMs = 5_000;

/**
 * `GET /v1/events`: Server-Sent Events. First `event: history`, the counts per state of the
 * latest ticks; then every transition (`event: transition`), action step (`event: action`),
 * governance report (`event: report`, summarised), tick (`event: tick`, its counts),
 * admission decision (`event: admission`) and change of the fleet's health (`event: fleet`).
 * Past `maxSseClients` open streams, 503 with `Retry-After`.
 *
 * Every event but the history has an id. A client that reconnects with `Last-Event-ID` gets
 * the events it missed, in order, and no history; when they are no longer all held (or the id
 * is from before a restart) it gets `event: reset`, meaning "read everything again", then the
 * history.
 */
export function eventRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { events, feed, metrics, streamLimits } = ctx;

  const schema = {
    summary: 'The event stream (Server-Sent Events)',
    response: { ...replies.events, ...errorReplies(503) },
  };
  app.get('/v1/events', { config: { access: 'operator' }, schema }, (request, reply) => {
    if (!events.hasRoom()) {
      metrics.sseRefused();
      throw new TooManyStreamsError(streamLimits.maxClients, retryAfterMs);
    }
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const given = request.headers['last-event-id'];
    // An empty id is no id (a client that has seen no event with one yet).
    const lastEventId = typeof given === 'string' && given !== '' ? given : undefined;
    // The history is this client's alone, so it is the one event serialised per client.
    events.add(raw, lastEventId, () => encodeEvent('history', feed.stateHistory()));
  });
}
