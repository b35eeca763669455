/**
 * Runs the benchmarks: `npm run bench` for all, `npm run bench -- <name> ...` for some.
 * Prints each figure and each ratio against its budget, and writes bench/results.json.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import type { Figure, ScenarioResult } from './measure.js';
import { quick } from './mode.js';
import { cel } from './scenarios/cel.js';
import { coreBudgets } from './scenarios/core-budgets.js';
import { governanceVsHandWritten } from './scenarios/governance-vs-hand-written.js';
import { governanceVsJsonRulesEngine } from './scenarios/governance-vs-json-rules-engine.js';
import { heartbeatIngest } from './scenarios/heartbeat-ingest.js';
import { httpIngest } from './scenarios/http-ingest.js';
import { memory } from './scenarios/memory.js';
import { natsIngest } from './scenarios/nats-ingest.js';
import { natsRegistration } from './scenarios/nats-registration.js';
import { recordOverhead } from './scenarios/record-overhead.js';
import { registrationPersist } from './scenarios/registration-persist.js';
import { relayIngest } from './scenarios/relay-ingest.js';
import { replay } from './scenarios/replay.js';
import { scaleOut } from './scenarios/scale-out.js';
import { shardTakeover } from './scenarios/shard-takeover.js';
import { simulation } from './scenarios/simulation.js';
import { sseFanout } from './scenarios/sse-fanout.js';
import { tick } from './scenarios/tick.js';

// A scenario that cannot run here (memory without --expose-gc) says why and returns undefined.
const scenarios: Readonly<Record<string, () => Promise<ScenarioResult | undefined>>> = {
  'governance-vs-hand-written': governanceVsHandWritten,
  'governance-vs-json-rules-engine': governanceVsJsonRulesEngine,
  'heartbeat-ingest': heartbeatIngest,
  'record-overhead': recordOverhead,
  'http-ingest': httpIngest,
  'nats-ingest': natsIngest,
  'relay-ingest': relayIngest,
  'nats-registration': natsRegistration,
  'scale-out': scaleOut,
  'shard-takeover': shardTakeover,
  'registration-persist': registrationPersist,
  tick,
  memory,
  simulation,
  'sse-fanout': sseFanout,
  'core-budgets': coreBudgets,
  cel,
  replay,
};

// Minutes whatever the size (processes, kills, lease waits): run only when named. Its small
// version is a test of its own (`npm run test:scale`).
const onlyWhenNamed = new Set(['scale-out']);

const resultsFile = new URL('./results.json', import.meta.url);

async function main(args: readonly string[]): Promise<void> {
  const names = args.filter((name) => name !== '--quick');
  const unknown = names.filter((name) => !(name in scenarios));
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`,
    );
  }
  const selected =
    names.length > 0 ? names : Object.keys(scenarios).filter((name) => !onlyWhenNamed.has(name));
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
  console.log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n`);
  if (quick) console.log('quick mode: small sizes, two runs a task; the figures mean nothing\n');

  const results: ScenarioResult[] = [];
  for (const name of selected) {
    const run = scenarios[name];
    if (run === undefined) continue;
    process.stderr.write(`${name}...\n`);
    const result = await run();
    if (result === undefined) continue;
    results.push(result);
    print(result);
  }

  console.log('Summary');
  for (const r of results) {
    console.log(
      `  ${r.meets ? 'ok  ' : 'MISS'} ${r.name}: ${r.ratio.toFixed(2)} (${r.budget.kind} ${r.budget.value})`,
    );
  }
  if (quick) return; // nothing worth keeping
  const report = { machine, date: new Date().toISOString(), scenarios: results };
  await writeFile(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${resultsFile.pathname}`);
}

function print(result: ScenarioResult): void {
  console.log(`\n${result.name}`);
  const rows = result.figures.map(row);
  const header = ['task', 'mean ms', 'p50 ms', 'p99 ms', '± %', 'samples', 'evaluations/s'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)));
  console.log(`  ${line(header).join('  ')}`);
  for (const r of rows) console.log(`  ${line(r).join('  ')}`);
  console.log(
    `  ratio (${result.ratioOf}): ${result.ratio.toFixed(2)}, budget ${result.budget.kind} ` +
      `${result.budget.value}: ${result.meets ? 'met' : 'MISSED'}`,
  );
  for (const d of result.derived) {
    console.log(
      `  ${d.label}: ${d.value.toFixed(d.unit === '%' ? 0 : 2)}${d.unit === '×' ? '' : ` ${d.unit}`}`,
    );
  }
  console.log('');
}

function row(f: Figure): string[] {
  return [
    f.label,
    f.mean.toFixed(2),
    f.p50.toFixed(2),
    f.p99.toFixed(2),
    f.rme.toFixed(1),
    String(f.samples),
    Math.round(f.evaluationsPerSecond).toLocaleString('en-US'),
  ];
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
