import { readFile } from 'node:fs/promises';
import os from 'node:os';

/** What an agent reports on each beat besides its id and seq. */
export interface LoadSample {
  /** Between 0 and 1. */
  readonly load: number;
  readonly metrics: Readonly<Record<string, number>>;
}

/** Where an agent's figures come from: the host, or a file a test or a script writes. */
export type LoadSource = () => LoadSample | Promise<LoadSample>;

const clamp = (value: number) => (Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0);

/**
 * The host's figures: the one-minute load average per CPU (clamped to [0, 1]) as `load`, and
 * the share of memory in use as the `mem` metric. The raw load average is kept as `loadavg1`.
 */
export const hostLoad: LoadSource = () => {
  const [loadavg1 = 0] = os.loadavg();
  const cpus = Math.max(1, os.cpus().length);
  return {
    load: clamp(loadavg1 / cpus),
    metrics: { mem: clamp(1 - os.freemem() / os.totalmem()), loadavg1 },
  };
};

/**
 * The load read from a file on every beat (a number in [0, 1], clamped), with the host's other
 * figures: how a test overloads one agent, or a script reports a load of its own making.
 */
export function fileLoad(path: string): LoadSource {
  return async () => {
    const host = await hostLoad();
    const text = await readFile(path, 'utf8');
    const load = Number(text.trim());
    if (text.trim() === '' || !Number.isFinite(load)) {
      throw new Error(`${path} holds no number: ${JSON.stringify(text.slice(0, 40))}`);
    }
    return { load: clamp(load), metrics: host.metrics };
  };
}
