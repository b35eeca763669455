import type { FleetSnapshot, NodeSnapshot } from 'wyneos';

/** The instant every generated fleet is evaluated at, on the supervisor's clock (ms). */
export const fleetAt = 1_700_000_000_000;

/**
 * mulberry32: a 32-bit seeded PRNG, small and fast enough that generating 100,000 nodes costs
 * nothing next to the benchmark. Returns floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const goodVersions = ['1.4.0', '1.4.2', '1.5.0', '1.10.3', '2.0.0', '2.1.7'];
// Below 1.4.0, including a pre-release, which semver orders before its release.
const oldVersions = ['0.9.12', '1.2.0', '1.3.9', '1.4.0-rc.1'];
const regions = ['eu', 'us', 'apac'];
const teams = ['core', 'edge', 'ml', 'payments'];

/**
 * A deterministic fleet of `count` nodes. Each property the ten rules read is out of bounds on
 * its own small share of nodes (about 1-4 %), independently, so every rule both passes and
 * fails and most nodes pass everything.
 */
export function generateFleet(count: number, seed = 42): NodeSnapshot[] {
  const random = mulberry32(seed);
  const chance = (p: number) => random() < p;
  const between = (low: number, high: number) => low + random() * (high - low);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;

  const nodes: NodeSnapshot[] = [];
  for (let i = 0; i < count; i++) {
    const labels: Record<string, string> = {};
    const regionDraw = random();
    // 3 % have no region, 2 % one no rule knows, the rest eu / us / apac.
    if (regionDraw >= 0.03) labels.region = regionDraw < 0.05 ? 'lab' : pick(regions);
    // Everyone has a team, except 8 % (so about 3 % of eu nodes break the eu-team rule).
    if (!chance(0.08)) labels.team = pick(teams);

    const heartbeatDraw = random();
    const lastHeartbeatAt =
      heartbeatDraw < 0.005
        ? undefined
        : fleetAt - (heartbeatDraw < 0.025 ? between(5_001, 60_000) : between(0, 5_000));

    const versionDraw = random();
    const version =
      versionDraw < 0.005
        ? undefined
        : versionDraw < 0.035
          ? pick(oldVersions)
          : pick(goodVersions);

    nodes.push({
      id: `node-${String(i).padStart(6, '0')}`,
      state: 'online',
      since: fleetAt - 3_600_000,
      reason: 'registered',
      isolations: 0,
      reinstateAt: undefined,
      probationUntil: undefined,
      escalation: 0,
      labels,
      version,
      registeredAt: fleetAt - 3_600_000,
      load: chance(0.03) ? between(0.951, 1) : between(0, 0.95),
      metrics: {
        mem: chance(0.025) ? between(0.9, 1) : between(0.1, 0.899),
        disk: chance(0.02) ? between(0.85, 1) : between(0.05, 0.849),
        temp: chance(0.015) ? between(85, 100) : between(30, 84.9),
        queue: chance(0.02) ? Math.floor(between(1_000, 50_000)) : Math.floor(between(0, 1_000)),
      },
      seq: i,
      lastHeartbeatAt,
      suspicion: 0,
      trust: 1,
    });
  }
  return nodes;
}

/** A fleet snapshot of `count` generated nodes at {@link fleetAt}. */
export function generateSnapshot(count: number, seed = 42): FleetSnapshot {
  return { tick: 1, at: fleetAt, nodes: generateFleet(count, seed) };
}
