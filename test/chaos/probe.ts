import { setTimeout as delay } from 'node:timers/promises';
import type { Fleet } from './fleet.js';
import type { Command } from './invariants.js';

/** Finds a numeric `boot` anywhere in a reply: where the server puts its epoch is its business. */
function bootIn(value: unknown): number | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.boot === 'number') return record.boot;
  for (const inner of Object.values(record)) {
    const found = bootIn(inner);
    if (found !== undefined) return found;
  }
  return undefined;
}

async function post(url: string, headers: Record<string, string>, body: string) {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(5000),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  } catch {
    return { status: undefined, body: undefined };
  }
}

/**
 * A node the harness beats for itself, through the proxy like the agents, so it knows the body
 * of its last acknowledged heartbeat exactly and can replay it after a kill -9. Like an agent,
 * it registers when the server does not know it and learns a new boot from a 409.
 */
export class Probe {
  lastAcknowledged: string | undefined;
  #seq = 0;
  #boot: number | undefined;
  #running = false;
  #loop: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    readonly fleet: Fleet,
    readonly proxyUrl: string,
  ) {}

  get #headers() {
    return { authorization: `Bearer ${this.fleet.token(this.id)}` };
  }

  async beat(): Promise<number | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      this.#seq = Math.max(this.#seq + 1, Date.now());
      const body = JSON.stringify({
        nodeId: this.id,
        seq: this.#seq,
        load: 0.3,
        ...(this.#boot === undefined ? {} : { boot: this.#boot }),
      });
      const answer = await post(`${this.proxyUrl}/v1/heartbeats`, this.#headers, body);
      if (answer.status === 200) {
        this.lastAcknowledged = body;
        return 200;
      }
      const code = (answer.body as { error?: { code?: string } } | undefined)?.error?.code;
      if (code === 'WYNEOS_ERR_UNKNOWN_NODE') {
        await post(`${this.proxyUrl}/v1/nodes`, this.#headers, JSON.stringify({ id: this.id }));
        continue;
      }
      const boot = bootIn(answer.body);
      if (answer.status === 409 && boot !== undefined && boot !== this.#boot) {
        this.#boot = boot;
        continue;
      }
      return answer.status;
    }
    return undefined;
  }

  /** Sends a body again as it was; resolves to the status the server answered. */
  async replay(body: string): Promise<number | undefined> {
    return (await post(`${this.proxyUrl}/v1/heartbeats`, this.#headers, body)).status;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        await this.beat();
        await delay(200);
      }
    })();
  }

  /** Stops beating once the beat in flight is answered. */
  async hold(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}

/**
 * Sends one operator command, in `commands` from the moment it is sent: until answered it is a
 * command that may or may not apply, whatever the harness checks meanwhile.
 */
export async function operatorCommand(
  fleet: Fleet,
  commands: Command[],
  nodeId: string,
  verb: 'isolate' | 'reinstate',
): Promise<void> {
  const at = commands.push({ nodeId, verb, sentAt: Date.now(), status: undefined }) - 1;
  const answer = await post(
    `${fleet.url}/v1/nodes/${nodeId}/${verb}`,
    fleet.operator,
    JSON.stringify({ reason: `chaos: ${verb}` }),
  );
  const node = (answer.body as { node?: { state: string; since: number } } | undefined)?.node;
  commands[at] = {
    ...(commands[at] as Command),
    status: answer.status,
    ...(node === undefined ? {} : { node: { state: node.state, since: node.since } }),
  };
}
