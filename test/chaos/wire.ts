import { createServer, request, type Server } from 'node:http';

/**
 * One request of a node to the server as the harness saw it: from when it was sent upstream to
 * when the server's answer (or the connection's end) came back. A request the server could
 * still read later is open (`end` undefined) until then: an agent that gives up waiting does
 * not take back bytes already in the server's socket.
 */
export interface WireRequest {
  readonly nodeId: string;
  readonly path: string;
  readonly body: string;
  readonly start: number;
  end?: number;
  status?: number;
  reply?: string;
}

/** Every request of every node, in the order they were sent. */
export class WireLog {
  readonly requests: WireRequest[] = [];

  open(nodeId: string, path: string, body: string): WireRequest {
    const entry: WireRequest = { nodeId, path, body, start: Date.now() };
    this.requests.push(entry);
    return entry;
  }

  /** Whether any request of `nodeId` could have reached the server between `from` and `to`. */
  heardBetween(nodeId: string, from: number, to: number): boolean {
    return this.requests.some(
      (r) => r.nodeId === nodeId && r.start <= to && (r.end === undefined || r.end >= from),
    );
  }
}

function nodeOf(path: string, body: string): string {
  try {
    const parsed = JSON.parse(body) as { nodeId?: unknown; id?: unknown };
    const id = path === '/v1/nodes' ? parsed.id : parsed.nodeId;
    return typeof id === 'string' ? id : '?';
  } catch {
    return '?';
  }
}

/**
 * A forwarding proxy between the agents and the server, so the harness knows when each node
 * could have been heard. It never abandons an upstream request: it ends only with the server's
 * answer, or with the connection when the server dies.
 */
export async function startProxy(upstreamPort: () => number, log: WireLog): Promise<Server> {
  const proxy = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = incoming.url ?? '/';
      const entry = log.open(nodeOf(path, body), path, body);
      const upstream = request(
        {
          host: '127.0.0.1',
          port: upstreamPort(),
          method: incoming.method,
          path,
          headers: { ...incoming.headers, connection: 'close' },
          agent: false,
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => parts.push(chunk));
          answer.on('end', () => {
            entry.end = Date.now();
            entry.status = answer.statusCode ?? 0;
            entry.reply = Buffer.concat(parts).toString('utf8');
            if (outgoing.destroyed) return;
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            outgoing.end(entry.reply);
          });
          answer.on('error', () => {
            entry.end ??= Date.now();
          });
        },
      );
      upstream.on('error', () => {
        entry.end ??= Date.now();
        if (!outgoing.destroyed && !outgoing.headersSent) outgoing.writeHead(502).end();
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return proxy;
}
