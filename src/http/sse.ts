import type { FastifyInstance } from 'fastify';
import type { Subscription } from 'rxjs';
import type { GovernanceReport } from '../governance/index.js';
import type { TickSummary } from '../supervisor/index.js';
import type { RouteContext } from './context.js';

// A client that reads slower than events come is dropped rather than buffered without bound.
const maxBufferedBytes = 1024 * 1024;
const pingMs = 15_000;

/** A report as the event stream sends it: per-node lists left out, they can be fleet-sized. */
function reportSummary(report: GovernanceReport) {
  const { runId, tick, at, policyVersion, nodeCount, rules, fleetCompliance, changes } = report;
  return { runId, tick, at, policyVersion, nodeCount, rules, fleetCompliance, changes };
}

/** A tick summary as the event stream sends it: the counts, for charts and status lines. */
function tickSummary(summary: TickSummary) {
  const { tick, at, nodeCount, states, transitions, actions, held, degraded, fleetCompliance } =
    summary;
  return { tick, at, nodeCount, states, transitions, actions, held, degraded, fleetCompliance };
}

/**
 * `GET /v1/events`: Server-Sent Events. First `event: history`, the counts per state of the
 * latest ticks; then every transition (`event: transition`), action step (`event: action`),
 * governance report (`event: report`, summarised), tick (`event: tick`, its counts),
 * admission decision (`event: admission`) and change of the fleet's health (`event: fleet`).
 */
export function eventRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { supervisor, streams, feed } = ctx;

  app.get('/v1/events', { config: { access: 'operator' } }, (request, reply) => {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(': wyneos events\n\n');
    let id = 0;
    let open = true;
    const send = (event: string, data: unknown) => {
      if (!open) return;
      if (raw.writableLength > maxBufferedBytes) {
        request.log.warn({ buffered: raw.writableLength }, 'event stream client too slow: dropped');
        close();
        return;
      }
      raw.write(`id: ${++id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const subscriptions: Subscription[] = [];
    const ping = setInterval(() => open && raw.write(': ping\n\n'), pingMs);
    ping.unref();
    streams.add(close);
    request.raw.on('close', close);
    send('history', feed.stateHistory());
    subscriptions.push(
      supervisor.transitions$.subscribe((t) => send('transition', t)),
      supervisor.actions$.subscribe((a) => send('action', a)),
      supervisor.reports$.subscribe((r) => send('report', reportSummary(r))),
      supervisor.ticks$.subscribe((t) => send('tick', tickSummary(t))),
      // Registrations make no transition: without these a new node would be missing until
      // the client read the node list again.
      supervisor.admissions$.subscribe((a) => send('admission', a)),
      // A stopped supervisor's streams are complete: the event stream ends with them.
      supervisor.fleet$.subscribe({ next: (f) => send('fleet', f), complete: () => close() }),
    );
    if (!open) for (const subscription of subscriptions) subscription.unsubscribe();
    function close(): void {
      if (!open) return;
      open = false;
      clearInterval(ping);
      for (const subscription of subscriptions) subscription.unsubscribe();
      streams.delete(close);
      raw.end();
    }
  });
}
