import type { GovernanceReport } from '../governance/index.js';
import type { TickSummary } from '../supervisor/index.js';

/**
 * One Server-Sent Event as the bytes every client is sent. Called once per event whatever the
 * number of clients: 2,000 clients serialising each event again cost seconds of heartbeat
 * latency and a gigabyte of memory. Its own module so that tests can count the calls.
 */
export function encodeEvent(event: string, data: unknown, id?: string): Buffer {
  const head = id === undefined ? '' : `id: ${id}\n`;
  return Buffer.from(`${head}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** A report as the event stream sends it: per-node lists left out, they can be fleet-sized. */
export function reportSummary(report: GovernanceReport) {
  const { runId, tick, at, policyVersion, nodeCount, rules, fleetCompliance, changes } = report;
  return { runId, tick, at, policyVersion, nodeCount, rules, fleetCompliance, changes };
}

/** A tick summary as the event stream sends it: the counts, for charts and status lines. */
export function tickSummary(summary: TickSummary) {
  const { tick, at, nodeCount, states, transitions, actions, held, degraded, fleetCompliance } =
    summary;
  return { tick, at, nodeCount, states, transitions, actions, held, degraded, fleetCompliance };
}
