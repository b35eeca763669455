import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Subscription } from 'rxjs';
import type { Clock } from '../clock.js';
import type { Supervisor } from '../supervisor/index.js';
import type { HttpMetrics } from './metrics.js';
import { ReplayBuffer } from './replay-buffer.js';
import { encodeEvent, reportSummary, tickSummary } from './sse-encode.js';

/** How many event streams a server keeps, how far behind one may fall, and how it resumes. */
export interface StreamLimits {
  /** Streams open at once; one more is refused with 503. */
  readonly maxClients: number;
  /** Bytes written to a stream and not yet taken by its client; past it, the client is dropped. */
  readonly maxBufferedBytes: number;
  /** Events kept for clients that reconnect with `Last-Event-ID`. */
  readonly replayEvents: number;
  /** The `retry:` sent to clients: how long they wait before reconnecting, in ms. */
  readonly retryMs: number;
  /** A comment is written this often (on the clock) so that proxies keep idle streams open. */
  readonly heartbeatMs: number;
}

const ping = Buffer.from(': ping\n\n');
const greeting = ': wyneos events\n';

/** Why a client's `Last-Event-ID` cannot be answered with the events it missed. */
export type ResetReason = 'evicted' | 'unknown';

/**
 * The event stream's one subscriber to the supervisor: each event is serialised once, and the
 * same bytes are written to every client. A client that reads slower than events come is
 * dropped once its unsent bytes pass the limit, rather than buffered without bound.
 *
 * Event ids are `<incarnation>-<sequence>`: the incarnation is random, drawn when the server
 * starts, and the sequence counts this server's events from 1. Within an incarnation ids only
 * grow; an id from another one (a restarted server) is answered with `event: reset`, as is one
 * older than the replay buffer, since the events after it cannot all be sent.
 */
export class EventBroadcast {
  private readonly clients = new Set<ServerResponse>();
  private readonly subscriptions: Subscription[];
  private readonly incarnation = randomBytes(5).toString('hex');
  private readonly replay: ReplayBuffer;
  private readonly hello: Buffer;
  /** Set once a client has connected: until then nobody can hold an id to resume from. */
  private recording = false;
  /** Events of the current burst, serialised, not yet written. */
  private pending: Buffer[] = [];
  private ended = false;
  private pinger: unknown;

  constructor(
    supervisor: Supervisor,
    private readonly limits: StreamLimits,
    private readonly metrics: HttpMetrics,
    private readonly log: FastifyBaseLogger,
    private readonly clock: Clock,
  ) {
    this.replay = new ReplayBuffer(limits.replayEvents);
    this.hello = Buffer.from(`${greeting}retry: ${limits.retryMs}\n\n`);
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

  /** The replay buffer's events and bytes now, for tests and metrics. */
  get replayed(): { readonly events: number; readonly bytes: number } {
    return { events: this.replay.size, bytes: this.replay.bytes };
  }

  /**
   * Follows `raw` (its head written) with every event from now on. First it gets the `retry:`
   * and then, when `lastEventId` names an event still held, every event after it; otherwise
   * (`reset` first when an id was given) `history()`, which only this client gets. After the
   * supervisor stopped it gets that much and the end.
   */
  add(raw: ServerResponse, lastEventId: string | undefined, history: () => Buffer): void {
    this.recording = true;
    // Events already given ids go out first, to the clients there before this one: the replay
    // below holds them, and this client must not get them twice.
    this.flush();
    raw.write(Buffer.concat([this.hello, ...this.resume(lastEventId, history)]));
    if (this.ended) {
      raw.end();
      return;
    }
    this.clients.add(raw);
    raw.on('close', () => this.remove(raw));
    this.metrics.sseClients(this.clients.size);
    if (this.pinger === undefined) this.schedulePing();
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

  /** What a client gets after the `retry:`: the events it missed, or a reset and the history. */
  private resume(lastEventId: string | undefined, history: () => Buffer): Buffer[] {
    if (lastEventId === undefined) return [history()];
    const missed = this.missedAfter(lastEventId);
    if (Array.isArray(missed)) return missed;
    // The reset carries the newest id, so a client that reconnects again before the next event
    // resumes from here rather than being reset once more.
    const reset = encodeEvent(
      'reset',
      { reason: missed, lastEventId: lastEventId.slice(0, 100), reload: true },
      this.idOf(this.replay.last),
    );
    return [reset, history()];
  }

  private missedAfter(lastEventId: string): Buffer[] | ResetReason {
    const dash = lastEventId.lastIndexOf('-');
    const seen = Number(lastEventId.slice(dash + 1));
    if (dash === -1 || lastEventId.slice(0, dash) !== this.incarnation) return 'unknown';
    if (!/^\d+$/.test(lastEventId.slice(dash + 1)) || seen > this.replay.last) return 'unknown';
    return this.replay.after(seen) ?? 'evicted';
  }

  private idOf(seq: number): string {
    return `${this.incarnation}-${seq}`;
  }

  private send(event: string, data: unknown): void {
    // Nobody has ever listened, so nobody can resume: not even serialised.
    if (!this.recording) return;
    // A tick emits its events in one burst: they go out together, one write per client.
    if (this.pending.length === 0) setImmediate(this.flush);
    const bytes = encodeEvent(event, data, this.idOf(this.replay.next));
    this.replay.push(bytes);
    this.pending.push(bytes);
  }

  private schedulePing(): void {
    // Proxies close a connection that carries nothing for a while. On the clock, so that a
    // test can see it without waiting.
    this.pinger = this.clock.setTimeout(() => {
      this.broadcast(ping);
      this.pinger = undefined;
      if (this.clients.size > 0) this.schedulePing();
    }, this.limits.heartbeatMs);
    (this.pinger as { unref?: () => void } | undefined)?.unref?.();
  }

  private readonly flush = (): void => {
    if (this.pending.length === 0) return;
    const bytes = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    if (bytes !== undefined) this.broadcast(bytes);
  };

  private broadcast(bytes: Buffer): void {
    for (const raw of this.clients) {
      // Gone, its close not yet seen: the event is in the replay buffer for its return.
      if (raw.destroyed) this.remove(raw);
      else if (raw.writableLength > this.limits.maxBufferedBytes) this.drop(raw);
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
      this.clock.clearTimeout(this.pinger);
      this.pinger = undefined;
    }
  }

  private end(): void {
    this.ended = true;
    this.endAll();
  }
}
