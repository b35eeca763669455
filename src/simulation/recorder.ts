import type { TickSummary } from '../supervisor/index.js';
import type { ActionRecord, NodeState, NodeTransition, RemediationActionType } from '../types.js';
import type { ResolvedFault } from './faults.js';
import type { FalsePositive, Incident } from './ground-truth.js';
import type { Invariant, Violation } from './invariants.js';
import {
  type CompliancePoint,
  type InvariantResult,
  type SimulationResult,
  summariseDetection,
} from './result.js';

const maxExamples = 5;
const maxSeriesPoints = 120;

/** Counts what a run did, as it goes, and assembles the result. */
export class RunRecorder {
  sent = 0;
  lost = 0;
  accepted = 0;
  ticks = 0;
  private readonly rejections: Record<string, number> = {};
  private readonly proposed: Partial<Record<RemediationActionType, number>> = {};
  private readonly applied: Partial<Record<RemediationActionType, number>> = {};
  private readonly held: Record<string, number> = {};
  private failed = 0;
  private readonly transitions: Record<string, number> = {};
  private admitted = 0;
  private refused = 0;
  private readonly points: CompliancePoint[] = [];
  private readonly violations = new Map<string, Violation[]>();
  private readonly violationCounts = new Map<string, number>();
  private lastStates: Record<NodeState, number> = {
    online: 0,
    overloaded: 0,
    isolated: 0,
    offline: 0,
  };

  constructor(
    private readonly checked: ReadonlyArray<{ invariant: Invariant; applicable: boolean }>,
  ) {}

  rejected(code: string): void {
    this.rejections[code] = (this.rejections[code] ?? 0) + 1;
  }

  transition(t: NodeTransition): void {
    const key = `${t.from}→${t.to}`;
    this.transitions[key] = (this.transitions[key] ?? 0) + 1;
  }

  action(record: ActionRecord): void {
    if (record.status === 'proposed')
      this.proposed[record.type] = (this.proposed[record.type] ?? 0) + 1;
    else if (record.status === 'applied')
      this.applied[record.type] = (this.applied[record.type] ?? 0) + 1;
    else if (record.status === 'held') {
      const limit = record.heldBy ?? 'unknown';
      this.held[limit] = (this.held[limit] ?? 0) + 1;
    } else this.failed++;
  }

  admission(admitted: boolean): void {
    if (admitted) this.admitted++;
    else this.refused++;
  }

  tick(summary: TickSummary): void {
    this.ticks++;
    this.lastStates = { ...summary.states };
    this.points.push({
      at: summary.at,
      fleetCompliance: summary.fleetCompliance,
      states: this.lastStates,
    });
  }

  violated(name: string, violation: Violation): void {
    this.violationCounts.set(name, (this.violationCounts.get(name) ?? 0) + 1);
    const list = this.violations.get(name) ?? [];
    if (list.length < maxExamples) list.push(violation);
    this.violations.set(name, list);
  }

  states(): Readonly<Record<NodeState, number>> {
    return this.lastStates;
  }

  appliedCount(): number {
    return Object.values(this.applied).reduce((sum, n) => sum + n, 0);
  }

  result(run: {
    seed: number;
    nodes: number;
    tickMs: number;
    heartbeatIntervalMs: number;
    heartbeatTimeoutMs: number;
    detector: 'timeout' | 'phi';
    durationMs: number;
    faults: ReadonlyArray<ResolvedFault & { readonly targets: readonly string[] }>;
    incidents: readonly Incident[];
    falsePositives: { readonly count: number; readonly first: readonly FalsePositive[] };
  }): SimulationResult {
    const invariants: InvariantResult[] = this.checked.map(({ invariant, applicable }) => {
      const violations = this.violationCounts.get(invariant.name) ?? 0;
      return {
        name: invariant.name,
        description: invariant.description,
        applicable,
        holds: violations === 0,
        violations,
        examples: this.violations.get(invariant.name) ?? [],
      };
    });
    const compliance = this.points.map((p) => p.fleetCompliance);
    const every = Math.max(1, Math.ceil(this.points.length / maxSeriesPoints));
    const { incidents, falsePositives, faults, ...settings } = run;
    return {
      ...settings,
      ticks: this.ticks,
      faults: faults.map((f) => ({ ...f, targets: [...f.targets] })),
      incidents,
      detection: summariseDetection(incidents),
      falsePositives,
      actions: {
        proposed: { ...this.proposed },
        applied: { ...this.applied },
        held: { ...this.held },
        failed: this.failed,
      },
      transitions: { ...this.transitions },
      heartbeats: {
        sent: this.sent,
        lost: this.lost,
        accepted: this.accepted,
        rejected: { ...this.rejections },
      },
      admissions: { admitted: this.admitted, refused: this.refused },
      compliance: {
        min: compliance.length === 0 ? 1 : Math.min(...compliance),
        mean:
          compliance.length === 0 ? 1 : compliance.reduce((a, b) => a + b, 0) / compliance.length,
        final: compliance.at(-1) ?? 1,
        series: this.points.filter(
          (_, i) => i % every === every - 1 || i === this.points.length - 1,
        ),
      },
      finalStates: { ...this.lastStates },
      invariants,
      ok: invariants.every((i) => i.holds),
    };
  }
}
