import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type AuditRecord, queryAudit } from 'wyneos';
import { SeededRandom } from 'wyneos/testing';
import { freePort, until } from '../processes.js';
import { AuditWatch } from './audit-watch.js';
import { mountDisk, wallClock } from './faults.js';
import { Fleet } from './fleet.js';
import {
  acknowledgedNotAudited,
  acknowledgedNotInState,
  auditGaps,
  type Command,
  revivalsWithoutHeartbeat,
  savedStateNotAudited,
} from './invariants.js';
import { operatorCommand, Probe } from './probe.js';
import { Tally } from './report.js';
import { startProxy, WireLog } from './wire.js';

export const faultKinds = [
  'server SIGSTOP/SIGCONT',
  'agent SIGSTOP/SIGCONT',
  'agent kill -9 and restart',
  'server kill -9 and restart',
  'disk full, then freed',
  'server wall clock jump',
] as const;
type Fault = (typeof faultKinds)[number];

const agentIds = ['a-1', 'a-2', 'a-3', 'a-4'];

/**
 * Runs `rounds` faults drawn from `seed` against a real server and its agents, checking the
 * invariants after each restart and at the end. Every process, mount and directory it made is
 * gone when it returns or throws.
 */
export async function runChaos(seed: number, rounds: number, say: (line: string) => void) {
  const random = new SeededRandom(seed);
  const tally = new Tally();
  const dir = await mkdtemp(join(tmpdir(), 'wyneos-chaos-'));
  const stateDir = join(dir, 'state');
  const disk = mountDisk(stateDir);
  const clock = wallClock(dir);
  if (disk.unavailable !== undefined) tally.skipped.set('disk full, then freed', disk.unavailable);
  if (clock.unavailable !== undefined)
    tally.skipped.set('server wall clock jump', clock.unavailable);
  const port = await freePort();
  const wire = new WireLog();
  const proxy = await startProxy(() => port, wire);
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  const fleet = new Fleet({ dir, stateDir, port, proxyUrl, serverEnv: clock.env });
  const watch = new AuditWatch(stateDir);
  const probe = new Probe('probe', fleet, proxyUrl);
  const commands: Command[] = [];
  const background = new Set<Promise<void>>();
  const readyz = { windows: 0, notReady: 0 };
  let closed = false;
  const activity: { at: number; what: string }[] = [];

  const audit = (): AuditRecord[] =>
    queryAudit(stateDir, {}, { onNotice: (m) => tally.notes.push(`audit: ${m}`) }).reverse();
  const states = async () => {
    const response = await fetch(`${fleet.url}/v1/nodes`, {
      headers: fleet.operator,
      signal: AbortSignal.timeout(5000),
    });
    const { nodes } = (await response.json()) as { nodes: { id: string; state: string }[] };
    return new Map(nodes.map((n) => [n.id, n.state]));
  };
  const serverDate = () =>
    fetch(`${fleet.url}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => Date.parse(r.headers.get('date') ?? ''),
      () => Number.NaN,
    );
  const checkDecisions = async () => {
    const records = audit();
    tally.check('no audit gap', auditGaps(records, watch.records()));
    tally.check('no acknowledged decision lost (audit)', acknowledgedNotAudited(commands, records));
    tally.check(
      'no acknowledged decision lost (state)',
      acknowledgedNotInState(commands, records, await states()),
    );
  };
  const checkSaved = async () => {
    try {
      const saved = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as {
        nodes: { id: string; state: string; since: number }[];
      };
      tally.check(
        'saved state only holds audited isolations',
        savedStateNotAudited(saved.nodes, audit()),
      );
    } catch (error) {
      tally.notes.push(`state.json unreadable after a kill: ${String(error)}`);
    }
  };

  /** After the server is gone (killed by us or not): check, start it again, check. */
  const restart = async () => {
    await probe.hold();
    const replayBody = probe.lastAcknowledged;
    await checkSaved();
    disk.free();
    await delay(random.int(0, 800));
    await fleet.startServer();
    tally.check(
      '/healthz answered after every fault',
      (await fleet.healthy()) ? [] : [`no /healthz after restarting in ${fleet.doing}`],
    );
    if (replayBody !== undefined) {
      const status = await probe.replay(replayBody);
      const accepted = status !== undefined && status >= 200 && status < 300;
      tally.check(
        'no replayed heartbeat accepted',
        accepted
          ? [`after restart, the last acknowledged heartbeat ${replayBody} answered ${status}`]
          : [],
      );
    }
    probe.start();
    await checkDecisions();
  };

  const inBackground = (work: () => Promise<void>) => {
    const running = work().finally(() => background.delete(running));
    background.add(running);
  };
  const liveAgent = () => {
    const free = agentIds.filter((id) => {
      const agent = fleet.agents.get(id);
      return agent?.proc !== undefined && !agent.paused;
    });
    return free.length === 0 ? undefined : free[random.int(0, free.length - 1)];
  };
  const silenceAgent = () => {
    const id = liveAgent();
    if (id === undefined) return;
    tally.inject('agent SIGSTOP/SIGCONT');
    fleet.pauseAgent(id);
    const ms = random.int(3000, 9000);
    inBackground(async () => {
      await delay(ms);
      fleet.resumeAgent(id);
    });
  };
  /** Often a node goes silent first, so a late tick, restart or clock jump has someone to wrongly revive. */
  const sometimesSilent = async () => {
    if (!random.chance(0.7)) return;
    silenceAgent();
    await delay(2500);
  };
  const commandSome = async (count: number) => {
    for (let c = 0; c < count; c++) {
      const id = agentIds[random.int(0, agentIds.length - 1)] as string;
      await operatorCommand(fleet, commands, id, random.chance(0.55) ? 'isolate' : 'reinstate');
    }
  };

  const inject: Record<Fault, () => Promise<void>> = {
    'server SIGSTOP/SIGCONT': async () => {
      await sometimesSilent();
      fleet.pauseServer();
      await delay(random.int(1500, 4000));
      fleet.resumeServer();
    },
    'agent SIGSTOP/SIGCONT': async () => {
      silenceAgent();
      await delay(500);
    },
    'agent kill -9 and restart': async () => {
      const id = liveAgent();
      if (id === undefined) return;
      await fleet.killAgent(id);
      const ms = random.int(3000, 8000);
      inBackground(async () => {
        await delay(ms);
        if (!closed) fleet.startAgent(id);
      });
    },
    'server kill -9 and restart': async () => {
      await sometimesSilent();
      await probe.hold();
      // Sometimes right after an answered command: what was answered must be on disk.
      if (random.chance(0.5)) await commandSome(1);
      await fleet.killServer();
      await restart();
    },
    'disk full, then freed': async () => {
      disk.fill();
      readyz.windows++;
      let sawNotReady = false;
      const end = Date.now() + random.int(2000, 5000);
      // Commands while full, answered before the disk is freed: none overlaps another.
      const commanding = commandSome(random.int(1, 2));
      while (Date.now() < end && fleet.serverAlive) {
        const status = await fetch(`${fleet.url}/readyz`, {
          signal: AbortSignal.timeout(1000),
        }).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 503) sawNotReady = true;
        await delay(250);
      }
      await commanding;
      if (sawNotReady) readyz.notReady++;
      disk.free();
    },
    'server wall clock jump': async () => {
      await sometimesSilent();
      const delta = random.chance(0.5) ? random.int(2, 6) : -random.int(2, 6);
      clock.set(clock.offsetHours + delta);
      // The server's own Date header shows its wall clock: the jump must have reached it.
      const want = Date.now() + clock.offsetHours * 3_600_000;
      const moved = await until(serverDate, (at) => Math.abs(at - want) < 600_000, 10_000).then(
        () => true,
        () => false,
      );
      if (!moved)
        tally.notes.push(`a clock jump to ${clock.offsetHours} h did not reach the server`);
      await delay(1500);
    },
  };

  const kinds = faultKinds.filter((kind) => !tally.skipped.has(kind));
  // Every kind once first, in a seeded order, so even a short run meets each of them.
  const schedule: Fault[] = random.sample(kinds, kinds.length);
  while (schedule.length < rounds) schedule.push(kinds[random.int(0, kinds.length - 1)] as Fault);

  try {
    await fleet.startServer();
    for (const id of agentIds) fleet.startAgent(id);
    probe.start();
    await until(states, (s) => s.size === agentIds.length + 1, 60_000, 'every node registered');
    for (const [round, fault] of schedule.entries()) {
      await commandSome(random.int(0, 2));
      if (fault !== 'agent SIGSTOP/SIGCONT') tally.inject(fault);
      say(`chaos round ${round + 1}: ${fault}`);
      fleet.doing = `round ${round + 1}, ${fault}`;
      activity.push({ at: Date.now(), what: fleet.doing });
      await inject[fault]();
      if (fleet.serverAlive) {
        const answered = await fleet.healthy();
        tally.check(
          '/healthz answered after every fault',
          answered ? [] : [`none after ${fleet.doing}`],
        );
      } else {
        tally.check('/healthz answered after every fault', [
          `the server was dead after ${fleet.doing}`,
        ]);
        await fleet.killServer();
        await restart();
      }
      await delay(random.int(200, 1000));
    }
    // The end: everyone resumes, the fleet settles, one more crash, and the whole history.
    await Promise.all(background);
    await delay(2000);
    tally.inject('server kill -9 and restart');
    await inject['server kill -9 and restart']();
    await delay(1000);
    watch.look();
    const revivals = revivalsWithoutHeartbeat(
      watch.records(),
      wire,
      fleet.serverPauses,
      (at) => `(in ${activity.findLast((a) => a.at <= at)?.what ?? 'the start'})`,
    );
    for (let i = revivals.violations.length; i < revivals.examined; i++) {
      tally.check('no node revived without a heartbeat', []);
    }
    for (const v of revivals.violations) tally.check('no node revived without a heartbeat', [v]);
    for (const d of fleet.deaths) {
      const why = `exit ${d.code ?? d.signal} during ${d.during} (see stderr): ${d.last}`;
      tally.check('server died only by our kill -9', [why]);
    }
    if (fleet.deaths.length === 0) tally.check('server died only by our kill -9', []);
    tally.notes.push(
      `disk full: /readyz answered 503 in ${readyz.notReady} of ${readyz.windows} full-disk windows`,
      `operator commands: ${commands.length} sent, ${commands.filter((c) => c.status !== undefined && c.status < 300).length} acknowledged`,
    );
    return tally;
  } finally {
    closed = true;
    await probe.hold().catch(() => {});
    for (const id of agentIds) fleet.resumeAgent(id);
    fleet.resumeServer();
    await fleet.stopAll();
    watch.stop();
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
    disk.release();
    await rm(dir, { recursive: true, force: true });
  }
}
