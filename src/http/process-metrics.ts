import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';
import { packageVersion } from '../version.js';

// prom-client's default metrics watch the process for good (a GC observer, an event-loop delay
// histogram that is never disabled). So they are made once per process, in a registry of their
// own (never prom-client's global one), and each plugin registers the same metric objects in
// its own registry: two plugins in one process neither clash nor add watchers.
let shared: readonly Metric[] | undefined;

/**
 * The process's metrics: prom-client's defaults (`wyneos_process_*`, `wyneos_nodejs_*`) and
 * `wyneos_build_info{version,node} 1`.
 */
export function processMetrics(): readonly Metric[] {
  if (shared === undefined) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'wyneos_' });
    new Gauge({
      name: 'wyneos_build_info',
      help: 'Always 1: the wyneos version and the Node.js version it runs on, as labels.',
      labelNames: ['version', 'node'],
      registers: [registry],
    }).set({ version: packageVersion(), node: process.version }, 1);
    // prom-client names three gauges `nodejs_active_{handles,requests,resources}_total`, which
    // promtool flags (only counters end in _total). Each is the sum of the by-type gauge
    // beside it (`sum(wyneos_nodejs_active_handles)`), so they are left out.
    const metrics = registry.getMetricsAsArray() as unknown as Array<Metric & { name: string }>;
    shared = metrics.filter((m) => !(m.name.endsWith('_total') && !(m instanceof Counter)));
  }
  return shared;
}
