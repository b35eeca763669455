import { formatDuration } from '../duration.js';
import type { ReplayDifference, ReplayResult, ReplayStep } from './replay.js';

const shownDifferences = 200;

/** The replay's result as text: the differences, compliance per rule, the summary, the damage. */
export function replayLines(result: ReplayResult): string[] {
  const { trace, policies } = result;
  const lines = [
    `wyneos replay: ${trace.segments} segments, ${trace.entries} entries replayed, tick ${formatDuration(trace.tickMs)}, heartbeat timeout ${formatDuration(trace.heartbeatTimeoutMs)}`,
    `policy ${policies.policy} against baseline ${policies.baseline}${windowText(result)}`,
    '',
    `Differences: ${result.differences.length}`,
  ];
  for (const d of result.differences.slice(0, shownDifferences)) lines.push(...difference(d));
  if (result.differences.length > shownDifferences) {
    lines.push(`  ... ${result.differences.length - shownDifferences} more (all of them: --json)`);
  }
  lines.push('', 'Compliance per rule');
  const width = Math.max(4, ...result.compliance.map((c) => c.ruleId.length)) + 2;
  lines.push(`  ${'rule'.padEnd(width)}${'policy'.padStart(9)}${'baseline'.padStart(10)}`);
  for (const c of result.compliance) {
    lines.push(
      `  ${c.ruleId.padEnd(width)}${percent(c.policy?.compliance).padStart(9)}${percent(c.baseline?.compliance).padStart(10)}`,
    );
  }
  lines.push('', 'Summary');
  lines.push(
    `  ${'figure'.padEnd(16)}${'policy'.padStart(9)}${'baseline'.padStart(10)}${'change'.padStart(9)}`,
  );
  for (const row of result.summary) {
    const change = row.policy - row.baseline;
    lines.push(
      `  ${row.figure.padEnd(16)}${String(row.policy).padStart(9)}${String(row.baseline).padStart(10)}${(change > 0 ? `+${change}` : String(change)).padStart(9)}`,
    );
  }
  lines.push(`  ${'differences'.padEnd(16)}${String(result.differences.length).padStart(9)}`);
  for (const d of trace.damage) {
    lines.push(`damaged: ${d.file} at byte ${d.offset}, ${d.bytes} bytes skipped: ${d.problem}`);
  }
  lines.push(
    trace.damage.length === 0
      ? 'skipped: nothing (every segment read whole)'
      : `skipped: ${trace.skippedBytes} bytes in ${trace.damage.length} damaged parts; the rest replayed`,
  );
  return lines;
}

function windowText(result: ReplayResult): string {
  const { from, to } = result.trace;
  if (from === null && to === null) return '';
  const time = (ms: number | null) => (ms === null ? '…' : new Date(ms).toISOString());
  return `, from ${time(from)} to ${time(to)}`;
}

function difference(d: ReplayDifference): string[] {
  const lines = [`  ${new Date(d.at).toISOString()}  ${d.nodeId}`];
  lines.push(...side('policy:  ', d.policy), ...side('baseline:', d.baseline));
  return lines;
}

function side(label: string, steps: readonly ReplayStep[]): string[] {
  if (steps.length === 0) return [`    ${label} nothing`];
  return steps.map((s, i) => {
    const what = s.kind === 'action' ? `${s.what} (${s.status})` : s.what;
    return `    ${i === 0 ? label : ' '.repeat(label.length)} ${what}: ${s.reason}`;
  });
}

function percent(value: number | undefined): string {
  return value === undefined ? '—' : `${(value * 100).toFixed(2)}%`;
}
