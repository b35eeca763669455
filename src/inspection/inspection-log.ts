import { createWriteStream } from 'node:fs';
import type { InspectionEvent } from 'xstate';

/** One line of an inspection log: the event, with actor references as ids and big data cut. */
export interface InspectionRecord {
  readonly type: InspectionEvent['type'];
  /** The actor the event is about: its id (`supervisor`, a node id) and system session id. */
  readonly actorId: string;
  readonly sessionId: string;
  readonly sourceId?: string;
  readonly event?: unknown;
  readonly snapshot?: {
    readonly value?: unknown;
    readonly status?: string;
    readonly context?: unknown;
  };
  readonly action?: { readonly type: string; readonly params?: unknown };
}

const maxArray = 20;

/**
 * Turns XState inspection events into plain records: actor references become ids, Maps their
 * size, long arrays (a report's results, a snapshot of the fleet) their first items and length.
 * Only node actors' contexts are kept: the supervisor's holds the whole fleet.
 */
export function inspectionRecord(event: InspectionEvent): InspectionRecord {
  const base = {
    type: event.type,
    actorId: idOf(event.actorRef),
    sessionId: event.actorRef.sessionId,
  };
  switch (event.type) {
    case '@xstate.event':
      return {
        ...base,
        ...(event.sourceRef === undefined ? {} : { sourceId: idOf(event.sourceRef) }),
        event: plain(event.event),
      };
    case '@xstate.snapshot': {
      const snapshot = event.snapshot as {
        value?: unknown;
        status?: string;
        context?: unknown;
        machine?: { id: string };
      };
      return {
        ...base,
        event: plain(event.event),
        snapshot: {
          value: snapshot.value,
          ...(snapshot.status === undefined ? {} : { status: snapshot.status }),
          ...(snapshot.machine?.id === 'node' ? { context: plain(snapshot.context) } : {}),
        },
      };
    }
    case '@xstate.action':
      return { ...base, action: { type: event.action.type, params: plain(event.action.params) } };
    default:
      return base;
  }
}

// Actor refs carry an `id` at run time; XState's inspection types only promise a session id.
function idOf(ref: object): string {
  const { id, sessionId } = ref as { id?: unknown; sessionId?: unknown };
  return typeof id === 'string' ? id : String(sessionId);
}

function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => {
      if (v instanceof Map) return { map: v.size };
      if (typeof v === 'function') return undefined;
      if (typeof v === 'object' && v !== null && 'sessionId' in v && 'send' in v) {
        return { actor: idOf(v) };
      }
      if (Array.isArray(v) && v.length > maxArray)
        return { length: v.length, first: v.slice(0, maxArray) };
      return v;
    }) ?? 'null',
  );
}

/**
 * An inspector that writes every inspection event as one JSON line to `path`, for study after
 * the fact (`wyneos serve --inspect-log FILE`). `close()` flushes and closes the file.
 */
export function createInspectionLog(path: string): {
  /** The inspector to pass as `createSupervisor({ inspect })`. */
  readonly inspect: (event: InspectionEvent) => void;
  /** Flushes the lines written so far and closes the file; later events are dropped. */
  close(): Promise<void>;
} {
  const stream = createWriteStream(path, { flags: 'a' });
  let closed = false;
  return {
    inspect(event) {
      if (!closed) stream.write(`${JSON.stringify(inspectionRecord(event))}\n`);
    },
    close() {
      closed = true;
      return new Promise((resolve, reject) =>
        stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
    },
  };
}
