import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { nodeToken, operatorToken } from 'wyneos/http';
import { type Process, until, wyneos } from '../processes.js';
import type { Interval } from './invariants.js';

/** What a dead server said last: its last error line, or else its last line. */
function lastWords(lines: readonly Record<string, unknown>[]): string {
  const line = lines.findLast((l) => Number(l.level) >= 50) ?? lines.at(-1) ?? {};
  const error = (line.err ?? line.error) as { message?: string } | string | undefined;
  const detail = typeof error === 'string' ? error : error?.message;
  return [line.msg ?? line.text, detail]
    .filter((part) => part !== undefined)
    .join(': ')
    .slice(0, 300);
}

/** A port free now, so every restart of the server listens where the proxy expects it. */

/** A death of the server that the harness did not cause. */
export interface Death {
  readonly at: number;
  readonly code: number | null;
  readonly signal: string | null;
  readonly last: string;
  /** The fault being injected when it died. */
  readonly during: string;
}

export interface FleetOptions {
  readonly dir: string;
  readonly stateDir: string;
  readonly port: number;
  readonly proxyUrl: string;
  readonly serverEnv: Record<string, string>;
}

/**
 * The real processes: one `wyneos serve --state-dir` and its agents, each of which the harness
 * can pause, resume, kill and start again. The server's unexpected deaths are recorded.
 */
export class Fleet {
  readonly url: string;
  readonly secret = Buffer.from('chaos test secret, long enough, fine');
  readonly deaths: Death[] = [];
  readonly serverPauses: Interval[] = [];
  readonly agents = new Map<string, { proc: Process | undefined; paused: boolean }>();
  server: Process | undefined;
  /** What the harness is doing, for the record of a death. */
  doing = 'starting';
  #pausedAt: number | undefined;
  #killing = false;

  constructor(readonly options: FleetOptions) {
    this.url = `http://127.0.0.1:${options.port}`;
    writeFileSync(join(options.dir, 'secret'), this.secret);
    writeFileSync(join(options.dir, 'load'), '0.3\n');
    // No automatic reinstatement within the test: every isolation holds until the operator
    // lifts it, so a node leaving isolation by itself is a finding.
    writeFileSync(join(options.dir, 'config.yaml'), 'supervisor:\n  escalation: { baseMs: 1h }\n');
  }

  get operator(): Record<string, string> {
    return { authorization: `Bearer ${operatorToken(this.secret)}` };
  }

  token(id: string): string {
    return nodeToken(this.secret, id);
  }

  async startServer(): Promise<void> {
    const { dir, stateDir, port, serverEnv } = this.options;
    const server = wyneos(
      [
        'serve',
        ...['--port', String(port), '--secret-file', join(dir, 'secret'), '--state-dir', stateDir],
        ...['--config', join(dir, 'config.yaml'), '--partition-fraction', '0.9'],
        ...['--tick', '100ms', '--heartbeat-timeout', '1500ms', '--log-level', 'warn'],
      ],
      serverEnv,
    );
    this.server = server;
    void server.exited().then((code) => {
      if (this.#killing && this.server === server) return;
      this.deaths.push({
        at: Date.now(),
        code,
        signal: server.child.signalCode,
        last: lastWords(server.lines),
        during: this.doing,
      });
    });
    await this.healthy(30_000);
  }

  /** Whether the server answers /healthz within `ms`. */
  async healthy(ms = 15_000): Promise<boolean> {
    try {
      await until(
        () =>
          fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
            (r) => r.status,
            () => 0,
          ),
        (status) => status === 200,
        ms,
        '/healthz',
      );
      return true;
    } catch {
      return false;
    }
  }

  get serverAlive(): boolean {
    return (
      this.server !== undefined &&
      this.server.child.exitCode === null &&
      this.server.child.signalCode === null
    );
  }

  async killServer(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.resumeServer();
    this.#killing = true;
    if (this.serverAlive) server.child.kill('SIGKILL');
    await server.exited();
    this.#killing = false;
  }

  pauseServer(): void {
    if (!this.serverAlive || this.#pausedAt !== undefined) return;
    this.#pausedAt = Date.now();
    this.server?.child.kill('SIGSTOP');
  }

  resumeServer(): void {
    if (this.#pausedAt === undefined) return;
    if (this.serverAlive) this.server?.child.kill('SIGCONT');
    this.serverPauses.push({ from: this.#pausedAt, to: Date.now() });
    this.#pausedAt = undefined;
  }

  startAgent(id: string): void {
    const tokenFile = join(this.options.dir, `${id}.token`);
    writeFileSync(tokenFile, this.token(id));
    const proc = wyneos([
      'agent',
      ...['--server', this.options.proxyUrl, '--id', id, '--token-file', tokenFile],
      ...['--load-file', join(this.options.dir, 'load'), '--interval', '200ms'],
      ...['--timeout', '1s', '--max-backoff', '500ms', '--log-level', 'error'],
    ]);
    this.agents.set(id, { proc, paused: false });
  }

  pauseAgent(id: string): void {
    const agent = this.agents.get(id);
    if (agent?.proc === undefined || agent.paused) return;
    agent.paused = true;
    agent.proc.child.kill('SIGSTOP');
  }

  resumeAgent(id: string): void {
    const agent = this.agents.get(id);
    if (agent?.proc === undefined || !agent.paused) return;
    agent.paused = false;
    agent.proc.child.kill('SIGCONT');
  }

  async killAgent(id: string): Promise<void> {
    const agent = this.agents.get(id);
    if (agent?.proc === undefined) return;
    agent.proc.child.kill('SIGKILL');
    await agent.proc.exited();
    this.agents.set(id, { proc: undefined, paused: false });
  }

  /** Everything started ends, whatever state it was left in. */
  async stopAll(): Promise<void> {
    const all = [this.server, ...[...this.agents.values()].map((a) => a.proc)];
    this.#killing = true;
    for (const proc of all) {
      if (proc === undefined || proc.child.exitCode !== null || proc.child.signalCode !== null)
        continue;
      proc.child.kill('SIGCONT');
      proc.child.kill('SIGKILL');
    }
    await Promise.race([Promise.all(all.map((p) => p?.exited())), delay(10_000)]);
  }
}
