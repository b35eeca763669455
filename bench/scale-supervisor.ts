/**
 * One distributed supervisor in its own process, for `scale-out`: the policy file given, a
 * 5 s tick, isolations that last the run. It prints `ready`, then every 2 s a JSON line with
 * the shards it holds, its heartbeats accepted so far and the durations of its ticks since the
 * last line; it stops on SIGTERM.
 *
 *   node --import tsx bench/scale-supervisor.ts <nats url> <id> <shards> <policy file> <secret>
 */
import { pino } from 'pino';
import { loadPolicyFile } from 'wyneos';
import { startDistributedSupervisor } from 'wyneos/nats';

const [url, supervisorId, shards, policyFile, secret] = process.argv.slice(2);
const sup = await startDistributedSupervisor({
  nats: url as string,
  shards: Number(shards),
  supervisorId: supervisorId as string,
  relaySecret: secret as string,
  policy: await loadPolicyFile(policyFile as string),
  tickMs: 5000,
  heartbeatTimeoutMs: 20_000,
  // An isolation lasts the run: a reinstatement would open a second spell.
  escalation: { baseMs: 3_600_000, maxMs: 3_600_000 },
  safety: { maxIsolationsPerMinute: 100_000, maxActionsPerTick: 100_000 },
  logger: pino({ level: 'warn' }, pino.destination(2)),
});
let ticks: number[] = [];
sup.supervisor.ticks$.subscribe((tick) => ticks.push(tick.durationMs));
console.log('ready');
setInterval(() => {
  const line = { shards: sup.shards(), accepted: sup.heartbeats.accepted, ticks };
  ticks = [];
  console.log(JSON.stringify(line));
}, 2000).unref();
process.once('SIGTERM', () => {
  void sup.stop().then(() => process.exit(0));
});
