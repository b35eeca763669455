import { pino } from 'pino';
import type { Policy } from '../governance/index.js';
import { createSupervisor, type Supervisor } from '../supervisor/index.js';
import type { NodeRegistration } from '../telemetry/index.js';
import type { ActionRecord, NodeTransition } from '../types.js';
import type { TraceEntry, TraceHeader } from './format.js';
import { ReplayClock } from './replay-clock.js';

/** What one supervisor did over the replayed window. */
export interface SideRun {
  readonly actions: ActionRecord[];
  readonly transitions: NodeTransition[];
  /** Per rule: results summed over every tick in the window. */
  readonly rules: Map<string, RuleTally>;
  /** Inputs this supervisor refused (a heartbeat of a node its policy kept out, say). */
  refused: number;
  ticks: number;
}

/** How many results of each outcome one rule had, summed over the ticks replayed. */
export interface RuleTally {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

export interface Window {
  readonly from: number;
  readonly to: number;
}

const silent = pino({ level: 'silent' });

/**
 * Feeds the entries to two supervisors on one simulated clock, in order, each at its receive
 * time, so every tick falls between the same inputs for both. Inputs before `window.from` are
 * applied too (they make the state the window starts from); only what happens inside is kept.
 */
export async function runBoth(
  header: TraceHeader,
  entries: Iterable<TraceEntry>,
  policies: { readonly policy: Policy; readonly baseline: Policy },
  window: Window,
): Promise<{ policy: SideRun; baseline: SideRun; applied: number; outside: number }> {
  const clock = new ReplayClock();
  const sides: Array<{ sup: Supervisor; run: SideRun }> = [];
  let applied = 0;
  let outside = 0;
  let last = Number.NEGATIVE_INFINITY;
  for (const entry of entries) {
    const at = entry[0];
    if (at > window.to) {
      outside++;
      continue;
    }
    if (sides.length === 0) {
      clock.set(at);
      for (const policy of [policies.policy, policies.baseline]) {
        sides.push(side(header, policy, clock, window));
      }
      for (const { sup } of sides) sup.start();
    } else {
      clock.advance(at);
    }
    last = Math.max(last, at);
    for (const s of sides) {
      if (!apply(s.sup, entry)) s.run.refused++;
    }
    applied++;
  }
  // One tick past the last input, so what it brought is judged; or on to the window's end.
  if (sides.length > 0) {
    const end = Number.isFinite(window.to) ? window.to : last + header.tickMs;
    clock.advance(end);
  }
  for (const { sup } of sides) await sup.stop();
  const empty = (): SideRun => ({
    actions: [],
    transitions: [],
    rules: new Map(),
    refused: 0,
    ticks: 0,
  });
  return {
    policy: sides[0]?.run ?? empty(),
    baseline: sides[1]?.run ?? empty(),
    applied,
    outside,
  };
}

function side(header: TraceHeader, policy: Policy, clock: ReplayClock, window: Window) {
  const sup = createSupervisor({
    policy,
    clock,
    tickMs: header.tickMs,
    heartbeatTimeoutMs: header.heartbeatTimeoutMs,
    // A node the policy would refuse is isolated instead: the difference shows, and its later
    // inputs still replay.
    admission: 'isolate',
    logger: silent,
  });
  const run: SideRun = { actions: [], transitions: [], rules: new Map(), refused: 0, ticks: 0 };
  const inside = (at: number) => at >= window.from && at <= window.to;
  sup.actions$.subscribe((action) => {
    if (action.status !== 'proposed' && inside(action.at)) run.actions.push(action);
  });
  sup.transitions$.subscribe((transition) => {
    if (inside(transition.at)) run.transitions.push(transition);
  });
  sup.reports$.subscribe((report) => {
    if (!inside(report.at)) return;
    run.ticks++;
    for (const rule of report.rules) {
      let tally = run.rules.get(rule.ruleId);
      if (tally === undefined) {
        tally = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
        run.rules.set(rule.ruleId, tally);
      }
      tally.pass += rule.pass;
      tally.fail += rule.fail;
      tally.warn += rule.warn;
      tally.error += rule.error;
      tally.skip += rule.skip;
    }
  });
  return { sup, run };
}

// Whether the supervisor took it: a refusal under one policy is part of what replay shows.
function apply(sup: Supervisor, entry: TraceEntry): boolean {
  try {
    switch (entry[1]) {
      case 'h':
        sup.heartbeat(entry[2]);
        return true;
      case 'r':
        sup.register(entry[2]);
        return true;
      case 'k':
        if (sup.node((entry[2] as NodeRegistration).id) === undefined) sup.register(entry[2]);
        return true;
      case 'd':
        sup.deregister(entry[2]);
        return true;
      case 'o':
        return operator(sup, entry);
      default:
        return false;
    }
  } catch {
    // Refused under this policy (or an entry this release does not know): counted, not fatal.
    return false;
  }
}

function operator(
  sup: Supervisor,
  entry: Extract<TraceEntry, readonly [number, 'o', ...unknown[]]>,
) {
  const [, , command, nodeId, value] = entry;
  if (command === 'isolate') sup.isolate(nodeId, value as string);
  else if (command === 'reinstate') sup.reinstate(nodeId, value as string);
  else if (command === 'protect') sup.protect(nodeId, value as boolean);
  else if (command === 'pin') sup.pin(nodeId, value as boolean);
  else if (command === 'exempt') sup.exempt(value as Parameters<Supervisor['exempt']>[0]);
  else return false;
  return true;
}
