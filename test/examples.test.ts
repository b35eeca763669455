import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'wyneos/testing';
import { simulateWorkers, startService } from '../examples/embed-basic.js';

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
});
