import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StateCorruptError } from 'wyneos';
import { type DurableState, FileStateStore } from '../src/storage/index.js';

function good(): DurableState {
  return {
    format: 'wyneos-state',
    version: 1,
    savedAt: 5000,
    boots: 3,
    policyVersion: 'v1',
    nodes: [
      {
        id: 'node-1',
        labels: {},
        registeredAt: 1000,
        state: 'isolated',
        since: 4000,
        reason: 'quarantine',
        isolations: 2,
        reinstateAt: 9000,
        probationUntil: 12_000,
        escalation: 1,
        seq: 41,
        epoch: 7,
      },
    ],
    overrides: { protected: [], pinned: [] },
    exemptions: [{ id: 'ex-1', ruleId: 'r', nodeId: 'node-1', until: 9e12, reason: 'rollout' }],
    revocations: [{ licenceId: 'lic-1', reason: 'stolen', at: 3000 }],
  };
}

// Every numeric field of a state, by JSON pointer, with the values out of its range.
const tooBig = [2 ** 60, 1e20, 1e300];
const fields: Record<string, readonly number[]> = {
  '/savedAt': [-5, 1e20],
  '/boots': [-1, 1.5, 1e20],
  '/nodes/0/registeredAt': [-5, 1e20],
  '/nodes/0/since': [-1, 1e20],
  '/nodes/0/isolations': [-1, 0.5, ...tooBig],
  '/nodes/0/reinstateAt': [-5, 1e20],
  '/nodes/0/probationUntil': [-5, 1e20],
  '/nodes/0/escalation': [-1, 1e20],
  '/nodes/0/seq': [-2, 0.5, ...tooBig],
  '/nodes/0/epoch': [-1, 0.5, ...tooBig],
  '/exemptions/0/until': [-1, 1e20],
  '/revocations/0/at': [-1, 1e20],
};

function withValue(pointer: string, value: number): unknown {
  const state = structuredClone(good()) as unknown as Record<string, unknown>;
  const parts = pointer.split('/').slice(1);
  let at: Record<string, unknown> = state;
  for (const part of parts.slice(0, -1)) at = at[part] as Record<string, unknown>;
  at[parts.at(-1) as string] = value;
  return state;
}

function loadError(value: unknown): unknown {
  const dir = mkdtempSync(join(tmpdir(), 'wyneos-ranges-'));
  writeFileSync(join(dir, 'state.json'), JSON.stringify(value));
  try {
    new FileStateStore(dir).load();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('state ranges', () => {
  it('loads a state whose every number is in range', () => {
    expect(loadError(good())).toBeUndefined();
  });

  for (const [pointer, values] of Object.entries(fields)) {
    for (const value of values) {
      it(`refuses ${pointer} = ${value}, naming the field and the value`, () => {
        const error = loadError(withValue(pointer, value));
        expect(error).toBeInstanceOf(StateCorruptError);
        expect((error as Error).message).toContain(`is invalid at ${pointer}:`);
        expect((error as Error).message).toContain(`(got ${value})`);
      });
    }
  }

  it('refuses any numeric field set out of its range, naming its path', () => {
    const outOfRange = fc.oneof(
      fc.double({ max: -1, noNaN: true, noDefaultInfinity: true }),
      fc.double({ min: 1e16, max: 1e300, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(fields)), outOfRange, (pointer, value) => {
        const error = loadError(withValue(pointer, value));
        expect(error).toBeInstanceOf(StateCorruptError);
        expect((error as Error).message).toContain(`is invalid at ${pointer}:`);
      }),
      { numRuns: 60 },
    );
  });
});
