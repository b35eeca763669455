import type { JetStreamManager } from '@nats-io/jetstream';
import { TimeoutError } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { ensureStream } from '../../src/nats/fleet-setup.js';

// Supervisors starting together on a server still setting up JetStream: a request that times
// out is tried again rather than failing the start (a two-supervisor test once failed so).

/** A stream manager whose first `failures` requests fail with `error`. */
function flakyManager(failures: number, error: () => Error) {
  const calls: string[] = [];
  let left = failures;
  const step = async (name: string) => {
    calls.push(name);
    if (left-- > 0) throw error();
  };
  let created = false;
  const jsm = {
    streams: {
      info: async (stream: string) => {
        await step('info');
        if (!created) throw new Error(`stream ${stream} not found`);
        return {};
      },
      add: async () => {
        await step('add');
        created = true;
        return {};
      },
    },
  } as unknown as JetStreamManager;
  return { jsm, calls };
}

const config = { name: 'S', subjects: ['s.>'], num_replicas: 1 };

describe('ensureStream', () => {
  it('tries again after a timeout, and creates the stream', async () => {
    const { jsm, calls } = flakyManager(2, () => new TimeoutError());
    await ensureStream(jsm, config, 'the test stream');
    expect(calls.slice(-2)).toEqual(['info', 'add']);
    expect(calls.length).toBeGreaterThan(2);
  });

  it('gives up after four timed-out attempts, saying which stream', async () => {
    const { jsm } = flakyManager(1000, () => new TimeoutError());
    await expect(ensureStream(jsm, config, 'the test stream')).rejects.toMatchObject({
      code: 'WYNEOS_ERR_NATS',
      message: 'Cannot create the test stream: timeout',
    });
  });

  it('fails at once on anything but a timeout', async () => {
    const { jsm, calls } = flakyManager(1000, () => new Error('insufficient resources'));
    await expect(ensureStream(jsm, config, 'the test stream')).rejects.toThrow(
      'Cannot create the test stream: insufficient resources',
    );
    expect(calls).toEqual(['info', 'add', 'info']);
  });
});
