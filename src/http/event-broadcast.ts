import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Subscription } from 'rxjs';
import type { Supervisor } from '../supervisor/index.js';
import type { HttpMetrics } from './metrics.js';
import { encodeEvent, reportSummary, tickSummary } from './sse-encode.js';

/** How many event streams a server keeps, and how far behind one may fall. */
export interface StreamLimits {
  /** Streams open at once; one more is refused with 503. */
  readonly maxClients: number;
  /** Bytes written to a stream and not yet taken by its client; past it, the client is dropped. */
  readonly maxBufferedBytes: number;
}

const pingMs = 15_000;
const ping = Buffer.from(': ping\n\n');

/**
 * The event stream's one subscriber to the supervisor: each event is serialised once, and the
 * same bytes are written to every client. A client that reads slower than events come is
 * dropped once its unsent bytes pass the limit, rather than buffered without bound.
 */
export class EventBroadcast {
  private readonly clients = new Set<ServerResponse>();
  private readonly subscriptions: Subscription[];
  private nextId = 0;
  /** Events of the current burst, serialised, not yet written. */
  private pending: Buffer[] = [];
  private ended = false;
  private pinger: NodeJS.Timeout | undefined;

  constructor(
    supervisor: Supervisor,
    private readonly limits: StreamLimits,
    private readonly metrics: HttpMetrics,
    private readonly log: FastifyBaseLogger,
  ) {
    this.subscriptions = [
      supervisor.transitions$.subscribe((t) => this.send('transition', t)),
      supervisor.actions$.subscribe((a) => this.send('action', a)),
      supervisor.reports$.subscribe((r) => this.send('report', reportSummary(r))),
      supervisor.ticks$.subscribe((t) => this.send('tick', tickSummary(t))),
      // Registrations make no transition: without these a new node would be missing until
      // the client read the node list again.
      supervisor.admissions$.subscribe((a) => this.send('admission', a)),
      // A stopped supervisor's streams are complete: every event stream ends with them.
      supervisor.fleet$.subscribe({
        next: (f) => this.send('fleet', f),
        complete: () => this.end(),
      }),
    ];
  }

  /** Streams open now. */
  get size(): number {
    return this.clients.size;
  }

  /** Whether one more stream may open. */
  hasRoom(): boolean {
    return this.clients.size < this.limits.maxClients;
  }

  /**
   * Follows `raw` (its head written) with every event from now on, after `first`, which only
   * this client gets. After the supervisor stopped it gets `first` and the end.
   */
  add(raw: ServerResponse, first: Buffer): void {
    raw.write(first);
    if (this.ended) {
      raw.end();
      return;
    }
    this.clients.add(raw);
    raw.on('close', () => this.remove(raw));
    this.metrics.sseClients(this.clients.size);
    if (this.pinger === undefined) {
      // Proxies close a connection that carries nothing for a while.
      this.pinger = setInterval(() => this.broadcast(ping), pingMs);
      this.pinger.unref();
    }
  }

  /** Ends every stream (on shutdown); clients may connect again to a new server. */
  endAll(): void {
    this.flush();
    for (const raw of [...this.clients]) {
      this.remove(raw);
      raw.end();
    }
  }

  close(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.endAll();
  }

  private send(event: string, data: unknown): void {
    // Nobody listens: not even serialised.
    if (this.clients.size === 0) return;
    // A tick emits its events in one burst: they go out together, one write per client.
    if (this.pending.length === 0) setImmediate(this.flush);
    this.pending.push(encodeEvent(event, data, ++this.nextId));
  }

  private readonly flush = (): void => {
    if (this.pending.length === 0) return;
    const bytes = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    if (bytes !== undefined) this.broadcast(bytes);
  };

  private broadcast(bytes: Buffer): void {
    for (const raw of this.clients) {
      if (raw.writableLength > this.limits.maxBufferedBytes) this.drop(raw);
      else raw.write(bytes);
    }
  }

  private drop(raw: ServerResponse): void {
    this.log.warn(
      { buffered: raw.writableLength, limit: this.limits.maxBufferedBytes },
      'event stream client too slow: dropped',
    );
    this.remove(raw);
    this.metrics.sseDropped();
    // Destroyed, not ended: an end would queue behind the bytes the client is not reading.
    raw.destroy();
  }

  private remove(raw: ServerResponse): void {
    if (!this.clients.delete(raw)) return;
    this.metrics.sseClients(this.clients.size);
    if (this.clients.size === 0 && this.pinger !== undefined) {
      clearInterval(this.pinger);
      this.pinger = undefined;
    }
  }

  private end(): void {
    this.ended = true;
    this.endAll();
  }
}
