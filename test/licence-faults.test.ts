import { importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'wyneos';
import { createSimulatedFleet, simulate } from 'wyneos/testing';
import { SimulatedLicences } from '../src/simulation/licences.js';

describe('licence-faults', () => {
  it('injects licence expiry and revocation, and the supervisor gates exactly those nodes', async () => {
    const result = await simulate({
      nodes: 30,
      seed: 11,
      durationMs: 60_000,
      faults: [
        { kind: 'licence-expiry', at: 10_000, nodes: 2, lapseMs: 5000 },
        { kind: 'licence-revoke', at: 20_000, nodes: ['node-0005'] },
      ],
      supervisor: { licensing: { keys: [], graceMs: 2000 } },
    });
    const licenceIncidents = result.incidents.filter((i) => i.kind.startsWith('licence-'));
    expect(licenceIncidents).toHaveLength(3);
    for (const incident of licenceIncidents) {
      expect(incident).toMatchObject({
        expect: 'gated',
        outcome: 'detected',
        detectedBy: 'isolated',
      });
    }
    const revoked = licenceIncidents.find((i) => i.kind === 'licence-revoke');
    // Revoked at 20 s, gated after the 2 s grace, at the next tick.
    expect(revoked?.latencyMs).toBe(2000);
    for (const expiry of licenceIncidents.filter((i) => i.kind === 'licence-expiry')) {
      // The licence lapses 5 s after the fault, then the grace: gated 7 s in (whole seconds).
      expect(expiry.latencyMs).toBe(7000);
    }
    expect(result.falsePositives.count).toBe(0);
    expect(result.finalStates.isolated).toBe(3);
    expect(result.ok).toBe(true);
  });

  it('refuses a licence fault injected into a fleet that runs without licensing', async () => {
    const fleet = createSimulatedFleet({ nodes: 3 });
    expect(() => fleet.inject({ kind: 'licence-revoke', at: 0 })).toThrow(InvalidArgumentError);
    await fleet.stop();
  });

  it('signs licences that jose verifies like any other', async () => {
    const licences = new SimulatedLicences();
    const token = licences.issue('node-1', 0, 3_600_000);
    const { payload } = await jwtVerify(token, await importJWK(licences.publicJwk, 'EdDSA'), {
      currentDate: new Date(1000),
    });
    expect(payload).toMatchObject({ sub: 'node-1', jti: licences.held.get('node-1') });
  });
});
