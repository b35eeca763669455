/**
 * The load generator of the nats-ingest benchmark, in a process of its own so that it does
 * not share the supervisor's core: publishes one heartbeat per node per round, as fast as the
 * connection takes them (a flush per round keeps the client's buffer bounded), until killed.
 * Arguments: NATS URL, shard count, node count, and optionally `relay <secret>`: then the
 * round goes through one relay (`createRelay`, batches of 1,000 per shard) with each node's token.
 */
import { connect } from '@nats-io/transport-node';
import { nodeToken } from '../src/http/auth.js';
import { createRelay, shardOf, subjects } from '../src/nats/index.js';

const [url, shardArg, nodeArg, mode, secret] = process.argv.slice(2);
const shards = Number(shardArg);
const ids = Array.from({ length: Number(nodeArg) }, (_, i) => `node-${i}`);
const nc = await connect({ servers: url as string });
const subjectOf = ids.map((id) => subjects.heartbeat(shardOf(id, shards), id));
// From the clock: a second run on the same nodes (another mode) is never stale.
let seq = Date.now();
if (mode === 'relay') {
  const relay = createRelay({ connection: nc, relayId: 'bench', shards, intervalMs: 0 });
  const tokens = ids.map((id) => nodeToken(secret as string, id));
  process.stdout.write('publishing\n');
  for (;;) {
    seq++;
    for (let i = 0; i < ids.length; i++) {
      relay.offer(tokens[i] as string, {
        nodeId: ids[i],
        seq,
        load: 0.5,
        metrics: { mem: 0.4 },
      });
    }
    await relay.flush();
  }
}
process.stdout.write('publishing\n');
for (;;) {
  seq++;
  for (let i = 0; i < ids.length; i++) {
    nc.publish(
      subjectOf[i] as string,
      `{"nodeId":"${ids[i]}","seq":${seq},"load":0.5,"metrics":{"mem":0.4}}`,
    );
  }
  await nc.flush();
}
