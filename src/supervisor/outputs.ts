import { Subject } from 'rxjs';
import type { GovernanceReport } from '../governance/index.js';
import type { Logger } from '../logger.js';
import type { ActionRecord, NodeTransition } from '../types.js';
import type { AdmissionDecision, FleetHealth, TickSummary } from './types.js';

/**
 * How many transition and action lines one tick writes at `info` (and `warn`, for held
 * actions); the rest go to `debug`, and an `info` line sums the tick up. Logging every line of
 * a tick that moves a thousand nodes would cost more than the tick itself on a slow
 * destination (a pipe), and tell a person no more than the counts do.
 */
export const linesPerTick = 100;

/**
 * Where every decision leaves the supervisor: one rxjs stream per kind, and one structured
 * log line per transition and action (up to `linesPerTick` a tick at `info`, the rest at
 * `debug`), with a summary line per tick at `debug`, and at `info` too when lines were left out.
 */
export class SupervisorOutputs {
  readonly ticks = new Subject<TickSummary>();
  readonly transitions = new Subject<NodeTransition>();
  readonly reports = new Subject<GovernanceReport>();
  readonly actions = new Subject<ActionRecord>();
  readonly admissions = new Subject<AdmissionDecision>();
  readonly fleet = new Subject<FleetHealth>();
  private readonly log: Logger;
  private readonly governanceLog: Logger;
  /** Lines written at `info` or `warn` this tick, and lines sent to `debug` instead. */
  private listed = 0;
  private unlisted = 0;

  constructor(logger: Logger) {
    this.log = logger.child({ component: 'supervisor' });
    this.governanceLog = logger.child({ component: 'governance' });
  }

  transition(transition: NodeTransition): void {
    const { nodeId, from, to, reason, tick } = transition;
    if (this.listing()) this.log.info({ nodeId, from, to, reason, tick }, 'node transition');
    else this.log.debug({ nodeId, from, to, reason, tick }, 'node transition');
    this.transitions.next(transition);
  }

  action(record: ActionRecord): void {
    const { id, type, status, nodeId, reason, tick, ruleId, origin, heldBy, error } = record;
    const fields = { actionId: id, action: type, status, nodeId, reason, tick, ruleId, origin };
    // A hook's failure comes on its own, after its tick: always worth its line.
    if (status === 'failed') this.log.warn({ ...fields, error }, 'remediation action failed');
    else if (!this.listing()) this.log.debug({ ...fields, heldBy }, 'remediation action');
    else if (status === 'held') this.log.warn({ ...fields, heldBy }, 'remediation action held');
    else this.log.info(fields, 'remediation action');
    this.actions.next(record);
  }

  /** Whether this tick may still write a line at `info`; counts the line either way. */
  private listing(): boolean {
    if (this.listed < linesPerTick) {
      this.listed++;
      return true;
    }
    this.unlisted++;
    return false;
  }

  selfDistrust(lateMs: number, tick: number): void {
    this.log.warn(
      { lateMs, tick },
      'supervisor tick was late: silence from while it was not watching does not count',
    );
  }

  fleetHealth(degraded: readonly string[], tick: number, at: number): void {
    if (degraded.length > 0) this.log.warn({ degraded, tick }, 'fleet degraded');
    else this.log.info({ tick }, 'fleet healthy again');
    const status = degraded.length > 0 ? 'fleet-degraded' : 'fleet-healthy';
    this.fleet.next({ status, reasons: degraded, tick, at });
  }

  report(report: GovernanceReport): void {
    // One line per rule that errored, not one per node: a broken rule must not flood the log.
    for (const rule of report.rules) {
      if (rule.error === 0) continue;
      const first = report.results.find((r) => r.ruleId === rule.ruleId && r.outcome === 'error');
      this.governanceLog.warn(
        {
          ruleId: rule.ruleId,
          errors: rule.error,
          firstNodeId: first?.nodeId,
          message: first?.message,
        },
        'rule errored',
      );
    }
    for (const rule of report.rules) {
      if (rule.slow) {
        this.governanceLog.warn(
          { ruleId: rule.ruleId, durationMs: rule.durationMs, tick: report.tick },
          'rule over its time budget',
        );
      }
    }
    this.reports.next(report);
  }

  tick(summary: TickSummary): void {
    this.log.debug(summary, 'tick');
    if (this.unlisted > 0) {
      const { tick, transitions, actions, held, states } = summary;
      this.log.info(
        { tick, transitions, actions, held, states, unlisted: this.unlisted },
        'tick changed more than is listed at info: the rest is at debug',
      );
    }
    this.listed = 0;
    this.unlisted = 0;
    this.ticks.next(summary);
  }

  admission(decision: AdmissionDecision): void {
    const { nodeId, admitted, isolated, failures } = decision;
    if (admitted && !isolated) this.governanceLog.debug({ nodeId }, 'node admitted');
    else {
      this.governanceLog.warn(
        { nodeId, admitted, isolated, failures },
        admitted ? 'node admitted into isolation' : 'node refused admission',
      );
    }
    this.admissions.next(decision);
  }

  policyChanged(from: string, to: string, rules: number): void {
    this.governanceLog.info({ from, to, rules }, 'policy changed');
  }

  registered(nodeIds: readonly string[]): void {
    if (nodeIds.length === 1) this.log.info({ nodeId: nodeIds[0] }, 'node registered');
    else this.log.info({ count: nodeIds.length }, 'nodes registered');
  }

  deregistered(nodeId: string): void {
    this.log.info({ nodeId }, 'node deregistered');
  }

  complete(): void {
    this.ticks.complete();
    this.transitions.complete();
    this.reports.complete();
    this.actions.complete();
    this.admissions.complete();
    this.fleet.complete();
  }
}
