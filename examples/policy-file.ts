/**
 * Governs a fleet with a policy written as data (examples/policy.yaml), then swaps in a stricter
 * version live. Run it with `npx tsx examples/policy-file.ts` after `npm ci`.
 */
import { fileURLToPath } from 'node:url';
import {
  AdmissionDeniedError,
  type Clock,
  createSupervisor,
  loadPolicyFile,
  maxLoad,
  type Supervisor,
} from 'wyneos';

export async function main({
  clock,
  log = console.log,
}: {
  clock?: Clock;
  log?: (line: string) => void;
} = {}) {
  const policy = await loadPolicyFile(fileURLToPath(new URL('./policy.yaml', import.meta.url)));
  const sup = createSupervisor({ policy, ...(clock === undefined ? {} : { clock }) });
  sup.actions$.subscribe((a) => {
    if (a.status === 'proposed') log(`action ${a.type} on ${a.nodeId}: ${a.reason}`);
  });

  sup.register({ id: 'web-1', labels: { region: 'eu', tier: 'prod' }, version: '1.5.0' });
  sup.register({ id: 'web-2', labels: { region: 'apac', tier: 'prod' }, version: '1.4.1' });
  try {
    sup.register({ id: 'legacy', labels: { region: 'eu' }, version: '1.2.0' });
  } catch (err) {
    if (err instanceof AdmissionDeniedError) log(err.message);
    else throw err;
  }

  sup.start();
  sup.heartbeat({ nodeId: 'web-1', seq: 1, load: 0.4, metrics: { mem: 0.95 } });
  sup.heartbeat({ nodeId: 'web-2', seq: 1, load: 0.2, metrics: { mem: 0.5 } });
  tickAndReport(sup, log);

  // A stricter policy, live: it applies from the next tick on.
  sup.setPolicy({
    version: '2026-11-26.2',
    rules: [...policy.rules, maxLoad(0.3, { id: 'max-load-strict' })],
  });
  sup.heartbeat({ nodeId: 'web-1', seq: 2, load: 0.4, metrics: { mem: 0.5 } });
  tickAndReport(sup, log);
  await sup.stop();
  return sup;
}

function tickAndReport(sup: Supervisor, log: (line: string) => void): void {
  const summary = sup.tick();
  const report = sup.report();
  log(`policy ${report?.policyVersion}: ${Math.round(summary.fleetCompliance * 100)}% compliant`);
  for (const result of report?.results ?? []) {
    log(`  ${result.nodeId} ${result.ruleId}: ${result.outcome} (${result.message})`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
