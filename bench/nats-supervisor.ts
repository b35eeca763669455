/**
 * One distributed supervisor in its own process, for `nats-registration`: it prints `ready`
 * once started, then `shards <n>` as the shards it holds change, and stops on SIGTERM (a
 * `--cpu-prof` run then writes its profile).
 *
 *   node --import tsx bench/nats-supervisor.ts <nats url> <supervisor id> <shards>
 */
import { pino } from 'pino';
import { startDistributedSupervisor } from 'wyneos/nats';

const [url, supervisorId, shards] = process.argv.slice(2);
const sup = await startDistributedSupervisor({
  nats: url as string,
  shards: Number(shards),
  supervisorId: supervisorId as string,
  // Nodes that register and never beat stay online for the whole run.
  heartbeatTimeoutMs: 600_000,
  logger: pino({ level: 'warn' }, pino.destination(2)),
});
console.log('ready');
// How many shards it holds, whenever that changes: the scenario waits for them to spread.
let held = -1;
setInterval(() => {
  if (sup.shards().length === held) return;
  held = sup.shards().length;
  console.log(`shards ${held}`);
}, 100).unref();
process.once('SIGTERM', () => {
  void sup.stop().then(() => process.exit(0));
});
