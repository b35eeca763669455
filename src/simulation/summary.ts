import { formatDuration } from '../duration.js';
import type { NodeState } from '../types.js';
import type { KindDetection, LatencyStats, SimulationResult } from './result.js';

const states: readonly NodeState[] = ['online', 'overloaded', 'isolated', 'offline'];

/** A simulation's result as the lines of a plain-text summary: faults, detection, actions, invariants. */
export function summaryLines(result: SimulationResult): string[] {
  const lines: string[] = [];
  const rows: string[][] = [
    [
      'fault',
      'incidents',
      'detected',
      'missed',
      'pending',
      'tolerated',
      'reacted',
      'latency p50 / p95 / max',
    ],
  ];
  const byKind = Object.entries(result.detection.byKind) as Array<[string, KindDetection]>;
  for (const [kind, d] of byKind) {
    rows.push([
      kind,
      ...[d.incidents, d.detected, d.missed, d.pending, d.tolerated, d.reacted].map(String),
      latency(d.latencyMs),
    ]);
  }
  const { detection } = result;
  rows.push([
    'to detect (all)',
    String(detection.detected + detection.missed + detection.pending),
    String(detection.detected),
    String(detection.missed),
    String(detection.pending),
    '',
    '',
    latency(detection.latencyMs),
  ]);
  lines.push(...table(rows), '');

  const fp = result.falsePositives;
  lines.push(
    `false positives: ${fp.count}${fp.first[0] ? ` (first: ${fp.first[0].nodeId} ${fp.first[0].to} at ${formatDuration(fp.first[0].at)}: ${fp.first[0].reason})` : ''}`,
  );
  lines.push(`actions applied: ${counts(result.actions.applied)}`);
  const held = counts(result.actions.held);
  lines.push(
    `actions held:    ${held}${result.actions.failed > 0 ? `; failed: ${result.actions.failed}` : ''}`,
  );
  const hb = result.heartbeats;
  const rejected = Object.values(hb.rejected).reduce((a, b) => a + b, 0);
  lines.push(
    `heartbeats: ${n(hb.sent)} sent, ${n(hb.lost)} lost, ${n(hb.accepted)} accepted, ${n(rejected)} rejected${rejected > 0 ? ` (${counts(hb.rejected)})` : ''}`,
  );
  const c = result.compliance;
  lines.push(
    `compliance: min ${percent(c.min)}, mean ${percent(c.mean)}, final ${percent(c.final)}`,
  );
  lines.push(`final states: ${states.map((s) => `${s} ${result.finalStates[s]}`).join(', ')}`);
  lines.push('', 'invariants:');
  for (const inv of result.invariants) {
    if (!inv.applicable) {
      lines.push(`  - ${inv.name}: not checked with the ${result.detector} detector`);
      continue;
    }
    lines.push(
      `  ${inv.holds ? '✓' : '✗'} ${inv.name}${inv.holds ? '' : `: ${inv.violations} violations`}`,
    );
    for (const v of inv.examples.slice(0, 3)) {
      lines.push(`      at ${formatDuration(v.at)}${v.nodeId ? ` ${v.nodeId}` : ''}: ${v.message}`);
    }
  }
  return lines;
}

function n(count: number): string {
  return count.toLocaleString('en-US');
}

function latency(stats: LatencyStats | null): string {
  if (stats === null) return '-';
  return [stats.p50, stats.p95, stats.max].map((ms) => formatDuration(ms)).join(' / ');
}

function counts(record: Readonly<Record<string, number | undefined>>): string {
  const entries = Object.entries(record).filter(([, n]) => n !== undefined && n > 0);
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} ${n}`).join(', ');
}

function percent(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}

function table(rows: readonly string[][]): string[] {
  const widths = (rows[0] as string[]).map((_, col) =>
    Math.max(...rows.map((r) => (r[col] ?? '').length)),
  );
  return rows.map((row) =>
    row
      .map((cell, col) =>
        col === 0 || col === row.length - 1
          ? cell.padEnd(widths[col] as number)
          : cell.padStart(widths[col] as number),
      )
      .join('  ')
      .trimEnd(),
  );
}
