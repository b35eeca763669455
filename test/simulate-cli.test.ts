import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidPolicyError } from 'wyneos';
import { createProgram } from '../src/cli/program.js';
import { runSimulation, type SimulateFlags } from '../src/cli/simulate.js';

const small: SimulateFlags = {
  nodes: 60,
  durationMs: 10 * 60_000,
  tickMs: 1000,
  heartbeatTimeoutMs: 3000,
  seed: 42,
  detector: 'timeout',
  faults: 'crash=0.05+2m,overload=0.05,bad-heartbeat=0.02,non-compliant=0.02,partition=0.6@5m+1m',
};

async function tempDir() {
  return mkdtemp(join(tmpdir(), 'wyneos-simulate-'));
}

describe('wyneos simulate', () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('writes byte-identical JSON for the same seed, and different JSON for another', async () => {
    const dir = await tempDir();
    const [fileA, fileB, fileC] = ['a.json', 'b.json', 'c.json'].map((f) => join(dir, f)) as [
      string,
      string,
      string,
    ];
    const quiet = { write: () => {}, progress: 'none' as const };
    await runSimulation({ ...small, json: fileA }, quiet);
    await runSimulation({ ...small, json: fileB }, quiet);
    await runSimulation({ ...small, seed: 43, json: fileC }, quiet);
    const [a, b, c] = await Promise.all([fileA, fileB, fileC].map((f) => readFile(f, 'utf8')));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    const result = JSON.parse(a as string);
    expect(result).toMatchObject({ seed: 42, nodes: 60, ticks: 600, ok: true });
    expect(Object.keys(result.detection.byKind).sort()).toEqual(
      ['bad-heartbeat', 'crash', 'non-compliant', 'overload', 'partition', 'recover'].sort(),
    );
  });

  it('prints progress lines, a summary table and the invariants', async () => {
    const lines: string[] = [];
    const result = await runSimulation(small, { write: (l) => lines.push(l), progress: 'lines' });
    const text = lines.join('\n');
    expect(lines[0]).toBe(
      'wyneos simulate: 60 nodes, 10m of 1s ticks, heartbeat timeout 3s, timeout detector, seed 42',
    );
    expect(
      lines.filter((l) =>
        /^\[ *\d+m\] online \d+ overloaded \d+ isolated \d+ offline \d+, actions \d+$/.test(l),
      ),
    ).toHaveLength(10);
    expect(text).toMatch(
      /^fault +incidents +detected +missed +pending +tolerated +reacted +latency p50 \/ p95 \/ max$/m,
    );
    const crash = result.detection.byKind.crash;
    expect(text).toContain(`crash`);
    expect(text).toMatch(
      new RegExp(`^crash +${crash?.incidents} +${crash?.detected} +0 +0 +0 +0 `, 'm'),
    );
    expect(text).toMatch(/^false positives: 0$/m);
    expect(text).toMatch(/^ {2}✓ isolation-cap$/m);
    expect(text).toMatch(/^simulated 10m in [\d.]+ s \(\d+× real time\)$/m);
  });

  it('exits 1 when an invariant broke, naming it and where', async () => {
    const dir = await tempDir();
    const module = join(dir, 'strict.mjs');
    // A team's own invariant, stricter than wyneos: no node may ever go offline.
    await writeFile(
      module,
      `export default [{
        name: 'never-offline',
        description: 'no node ever goes offline',
        monitor: (_context, violated) => ({
          transition: (t) => { if (t.to === 'offline') violated({ at: t.at, nodeId: t.nodeId, message: t.reason }); },
        }),
      }];\n`,
    );
    const lines: string[] = [];
    const program = createProgram((l) => lines.push(l), 'none');
    await program.parseAsync([
      'node',
      'wyneos',
      'simulate',
      '--nodes',
      '30',
      '--duration',
      '2m',
      '--faults',
      'crash=0.1@30s',
      '--invariants',
      module,
    ]);
    expect(process.exitCode).toBe(1);
    expect(lines.join('\n')).toMatch(
      /✗ never-offline: 3 violations\n {6}at 3\ds node-\d+: no heartbeat for/,
    );
    expect(lines.at(-1)).toBe('an invariant broke: exit code 1');
  });

  it('refuses a bad fault mix, policy file or invariants module with an error that says what is wrong', async () => {
    const quiet = { write: () => {}, progress: 'none' as const };
    await expect(runSimulation({ ...small, faults: 'crash=2' }, quiet)).rejects.toThrow(
      /--faults entry 1 .*share of the fleet must be a number from 0 to 1/,
    );
    await expect(runSimulation({ ...small, faults: 'earthquake=0.1' }, quiet)).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(runSimulation({ ...small, faults: 'partition=0.5@soon' }, quiet)).rejects.toThrow(
      /start: expected a duration such as/,
    );
    await expect(runSimulation({ ...small, policy: 'no-such-policy.yaml' }, quiet)).rejects.toThrow(
      InvalidPolicyError,
    );
    await expect(
      runSimulation({ ...small, invariants: 'no-such-module.mjs' }, quiet),
    ).rejects.toThrow(/invariants module no-such-module.mjs: importing it failed/);
  });
});
