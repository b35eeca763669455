import fc from 'fast-check';
import { AdvanceClockCommand } from './advance-clock.js';
import { ChangePolicyCommand } from './change-policy.js';
import { DeregisterCommand } from './deregister.js';
import { HeartbeatCommand } from './heartbeat.js';
import { type Fault, faults, InjectFaultCommand } from './inject-fault.js';
import { IsolateCommand } from './isolate.js';
import { stepMs } from './options.js';
import { policyNames, versions, zones } from './policies.js';
import { RegisterCommand } from './register.js';
import { ReinstateCommand } from './reinstate.js';

/** A small pool of ids, so that scenarios re-register, collide and address unknown nodes. */
export const nodeIds = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5'] as const;

// Loads on both sides of the marks and on them: overload at or over 0.9, recovery at or under
// 0.5, the load rules over 0.8; and one out of range, which makes a heartbeat malformed.
const loads = [0, 0.2, 0.5, 0.7, 0.8, 0.9, 0.95, 1, 1.5] as const;

/**
 * Scenarios for the supervisor, as `fc.commands` builds them. Time passing weighs most, so
 * that timeouts, streaks and backoffs play out; `replayPath` replays a failure found before.
 */
export function supervisorCommands(replayPath?: string) {
  const nodeId = fc.constantFrom(...nodeIds);
  const halfTicks = fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 4 }), weight: 3 },
    { arbitrary: fc.integer({ min: 5, max: 30 }), weight: 1 },
  );
  const fault = fc
    .record({ nodeId, fault: fc.constantFrom(...(Object.keys(faults) as Fault[])) })
    .map(({ nodeId, fault }) => new InjectFaultCommand(nodeId, fault));
  // A quarter of the heartbeats sent by hand resend the last one.
  const resend = fc.constantFrom(false, false, false, true);
  const advance = halfTicks.map((n) => new AdvanceClockCommand(n * stepMs));
  return fc.commands(
    [
      fc
        .record({
          nodeId,
          zone: fc.option(fc.constantFrom(...zones), { nil: undefined, freq: 4 }),
          version: fc.option(fc.constantFrom(...versions), { nil: undefined, freq: 4 }),
        })
        .map(({ nodeId, zone, version }) => new RegisterCommand(nodeId, zone, version)),
      nodeId.map((id) => new DeregisterCommand(id)),
      fc
        .record({ nodeId, load: fc.constantFrom(...loads), resend })
        .map(({ nodeId, load, resend }) => new HeartbeatCommand(nodeId, load, resend)),
      advance,
      advance,
      advance,
      fault,
      fault,
      nodeId.map((id) => new IsolateCommand(id)),
      nodeId.map((id) => new ReinstateCommand(id)),
      fc.constantFrom(...policyNames).map((name) => new ChangePolicyCommand(name)),
    ],
    { maxCommands: 80, size: 'max', ...(replayPath === undefined ? {} : { replayPath }) },
  );
}
