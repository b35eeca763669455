import { describe, expect, it } from 'vitest';
import { nodeToken, operatorToken } from 'wyneos/http';
import { SimulatedClock } from 'wyneos/testing';
import { simulateWorkers, startService } from '../examples/embed-basic.js';
import { buildService } from '../examples/fastify-service/index.js';
import { main as policyFileExample } from '../examples/policy-file.js';

describe('examples', () => {
  it('embed-basic: the service reacts to overload and silence', async () => {
    const clock = new SimulatedClock();
    const lines: string[] = [];
    const supervisor = startService({ clock, log: (line) => lines.push(line) });
    for (let beat = 1; beat <= 20; beat++) {
      simulateWorkers(supervisor, beat);
      clock.increment(100);
    }
    expect(lines).toContain('worker-2: online -> overloaded (load at or over 0.9 for 2 ticks)');
    expect(lines).toContain(
      'rebalancing: moving jobs away from worker-2 (load at or over 0.9 for 2 ticks)',
    );
    expect(lines).toContain(
      'worker-3: online -> offline (no heartbeat for 700 ms (timeout 600 ms))',
    );
    expect(lines).toContain('policy: max-queue fails on worker-2');
    expect(supervisor.nodes().map((n) => [n.id, n.state])).toEqual([
      ['worker-1', 'online'],
      ['worker-2', 'online'],
      ['worker-3', 'offline'],
    ]);
    await supervisor.stop();
  });

  it('policy-file: a YAML policy refuses, warns and isolates, then a stricter one applies live', async () => {
    const lines: string[] = [];
    await policyFileExample({ clock: new SimulatedClock(), log: (line) => lines.push(line) });
    expect(lines).toEqual([
      'Admission denied: legacy fails min-version (version 1.2.0 is older than 1.4.0)',
      'action warn on web-1: rule metric-below-mem failed: metric mem is 0.95, not below 0.9',
      'action isolate on web-2: rule allowed-label-values-region failed: label region is "apac", not one of eu, us',
      'policy 2026-11-26.1: 0% compliant',
      '  web-1 metric-below-mem: fail (metric mem is 0.95, not below 0.9)',
      '  web-2 allowed-label-values-region: fail (label region is "apac", not one of eu, us)',
      'policy 2026-11-26.2: 0% compliant',
      '  web-2 allowed-label-values-region: fail (label region is "apac", not one of eu, us)',
      '  web-1 max-load-strict: fail (load 0.4 is above the maximum 0.3)',
    ]);
  });

  it('fastify-service: the wyneos routes live under /wyneos beside the service routes', async () => {
    const clock = new SimulatedClock();
    const lines: string[] = [];
    const secret = 'the fastify-service example secret';
    const { app } = await buildService({ secret, clock, log: (line) => lines.push(line) });
    const key = Buffer.from(secret);
    const worker = { authorization: `Bearer ${nodeToken(key, 'worker-1')}` };
    const registered = await app.inject({
      method: 'POST',
      url: '/wyneos/v1/nodes',
      headers: worker,
      payload: { id: 'worker-1' },
    });
    expect(registered.statusCode).toBe(201);
    const answers = [];
    for (let seq = 1; seq <= 4; seq++) {
      const answer = await app.inject({
        method: 'POST',
        url: '/wyneos/v1/heartbeats',
        headers: worker,
        payload: { nodeId: 'worker-1', seq, load: 0.97 },
      });
      answers.push(answer.json());
      clock.increment(500);
    }
    expect(answers.at(-1)).toMatchObject({ state: 'overloaded' });
    expect(answers.flatMap((a) => a.actions.map((x: { type: string }) => x.type))).toEqual([
      'warn',
      'reduce-load',
    ]);
    expect(lines).toContain('reduce-load worker-1: load at or over 0.9 for 2 ticks');
    const operator = { authorization: `Bearer ${operatorToken(key)}` };
    const nodes = await app.inject({ url: '/wyneos/v1/nodes', headers: operator });
    expect(nodes.json().nodes).toMatchObject([{ id: 'worker-1', state: 'overloaded' }]);
    expect((await app.inject({ url: '/jobs' })).json()).toEqual({ jobs: [] });
    await app.close();
  });
});
