import { generateKeyPair, importJWK, jwtVerify, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createSupervisor,
  InvalidOptionsError,
  LicenceRefusedError,
  MemoryStateStore,
  type SupervisorOptions,
} from 'wyneos';
import {
  checkLicence,
  generateLicenceKeys,
  issueLicence,
  type LicenceKeyPair,
  type LicenceRequest,
  trustedKeys,
} from 'wyneos/licensing';
import { advanceClock, SimulatedClock } from 'wyneos/testing';
import { collect, silentLogger } from './helpers.js';

const start = Date.parse('2026-03-01T00:00:00Z');
const day = 86_400_000;
let keys: LicenceKeyPair;
let rotated: LicenceKeyPair;

beforeAll(async () => {
  keys = await generateLicenceKeys();
  rotated = await generateLicenceKeys();
});

function licence(request: Partial<LicenceRequest> = {}): Promise<string> {
  return issueLicence({
    privateJwk: keys.privateJwk,
    subject: { node: 'node-7' },
    notBefore: start - day,
    expiresAt: start + 30 * day,
    features: ['gpu'],
    ...request,
  });
}

function licensed(options: SupervisorOptions = {}, clock = new SimulatedClock()) {
  if (clock.now() === 0) clock.set(start);
  const sup = createSupervisor({
    logger: silentLogger,
    clock,
    licensing: { keys: [keys.publicJwk] },
    ...options,
  });
  sup.start();
  return { sup, clock, advance: (ms: number) => advanceClock(clock, ms, 1000) };
}

function refusal(register: () => unknown): string {
  try {
    register();
  } catch (error) {
    expect(error).toBeInstanceOf(LicenceRefusedError);
    expect((error as LicenceRefusedError).code).toBe('WYNEOS_ERR_LICENCE_REFUSED');
    return (error as LicenceRefusedError).reason;
  }
  throw new Error('the registration was not refused');
}

describe('licensing', () => {
  it('admits a node that presents a valid licence for itself, and shows it', async () => {
    const { sup } = licensed();
    const token = await licence();
    const events = collect(sup.licences$);
    sup.register({ id: 'node-7', licence: token });
    expect(sup.licence('node-7')).toMatchObject({
      status: 'valid',
      licence: { subject: { node: 'node-7' }, features: ['gpu'], keyId: keys.kid },
    });
    expect(events).toMatchObject([{ type: 'admitted', nodeId: 'node-7' }]);
    await sup.stop();
  });

  it('refuses each bad licence with its own reason, and registers nothing', async () => {
    const { sup } = licensed({ licensing: { keys: [keys.publicJwk], issuer: 'acme' } });
    const good = await licence({ issuer: 'acme' });
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, features: ['gpu', 'all'] })).toString('base64url')}.${signature}`;
    // Forged: a key of the forger's own, claiming the trusted key's id.
    const forger = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: keys.kid })
      .sign(forger.privateKey);
    const unknownKey = await issueLicence({
      privateJwk: rotated.privateJwk,
      subject: { node: 'node-7' },
      issuer: 'acme',
      notBefore: start - day,
      expiresAt: start + day,
    });
    const cases: Array<[string, unknown]> = [
      ['missing', undefined],
      ['malformed', 'not.a-licence'],
      ['malformed', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`],
      ['bad-signature', tampered],
      ['bad-signature', forged],
      ['unknown-key', unknownKey],
      ['wrong-issuer', await licence({ issuer: 'someone-else' })],
      ['expired', await licence({ issuer: 'acme', expiresAt: start - 1000 })],
      ['not-yet-valid', await licence({ issuer: 'acme', notBefore: start + day })],
      ['wrong-node', await licence({ issuer: 'acme', subject: { node: 'node-8' } })],
      ['wrong-node', await licence({ issuer: 'acme', subject: { selector: { pool: 'gpu' } } })],
      ['region', await licence({ issuer: 'acme', regions: ['us'] })],
    ];
    for (const [reason, token] of cases) {
      const node =
        token === undefined ? { id: 'node-7' } : { id: 'node-7', licence: token as string };
      expect([reason, refusal(() => sup.register({ ...node, labels: { region: 'eu' } }))]).toEqual([
        reason,
        reason,
      ]);
    }
    expect(sup.nodes()).toEqual([]);
    sup.register({ id: 'node-7', labels: { region: 'eu' }, licence: good });
    await sup.stop();
  });

  it('lets unlicensed nodes in when licences are not required', async () => {
    const { sup } = licensed({ licensing: { keys: [keys.publicJwk], required: false } });
    sup.register({ id: 'node-1' });
    expect(sup.licence('node-1')).toBeUndefined();
    expect(refusal(() => sup.register({ id: 'node-8', licence: 'x.y.z' }))).toBe('malformed');
    await sup.stop();
  });

  it("caps a fleet licence's holders at maxNodes", async () => {
    const { sup } = licensed();
    const fleet = await licence({ subject: { selector: { pool: 'gpu' } }, maxNodes: 2 });
    const gpu = (id: string) => ({ id, labels: { pool: 'gpu' }, licence: fleet });
    expect(refusal(() => sup.registerMany([gpu('a'), gpu('b'), gpu('c')]))).toBe('fleet-full');
    sup.registerMany([gpu('a'), gpu('b')]);
    expect(refusal(() => sup.register(gpu('c')))).toBe('fleet-full');
    sup.deregister('a');
    sup.register(gpu('c'));
    await sup.stop();
  });

  it('keeps licences of the old and the new key working while both are trusted (rotation)', async () => {
    const { sup } = licensed({ licensing: { keys: [keys.publicJwk, rotated.publicJwk] } });
    sup.register({ id: 'node-7', licence: await licence() });
    sup.register({
      id: 'node-8',
      licence: await licence({ privateJwk: rotated.privateJwk, subject: { node: 'node-8' } }),
    });
    expect(sup.nodes().map((n) => sup.licence(n.id)?.status)).toEqual(['valid', 'valid']);
    await sup.stop();
  });

  it('warns before expiry, then gates the node after the grace, and says why', async () => {
    const { sup, advance } = licensed({
      licensing: { keys: [keys.publicJwk], warnBeforeMs: 10_000, graceMs: 5000 },
    });
    sup.register({ id: 'node-7', licence: await licence({ expiresAt: start + 20_000 }) });
    const actions = collect(sup.actions$);
    const events = collect(sup.licences$);
    let seq = 0;
    const beat = () => sup.heartbeat({ nodeId: 'node-7', seq: seq++, load: 0.1 });
    for (let t = 0; t < 24; t++) {
      beat();
      advance(1000);
    }
    expect(events.map((e) => e.type)).toEqual(['expiring', 'expired']);
    expect(actions.filter((a) => a.status === 'applied').map((a) => a.type)).toEqual(['warn']);
    expect(sup.node('node-7')?.state).toBe('online');
    for (let t = 0; t < 2; t++) {
      beat();
      advance(1000);
    }
    expect(sup.node('node-7')).toMatchObject({ state: 'isolated', reason: 'licence: expired' });
    expect(sup.node('node-7')?.since).toBe(start + 25_000);
    expect(actions.at(-1)).toMatchObject({ type: 'isolate', origin: 'licence', status: 'applied' });
    await sup.stop();
  });

  it('gates every holder of a revoked licence on the next tick, past the isolation cap', async () => {
    const { sup, advance } = licensed({ licensing: { keys: [keys.publicJwk], graceMs: 60_000 } });
    const fleet = await licence({ id: 'fleet-1', subject: { selector: {} } });
    sup.registerMany(['a', 'b', 'c'].map((id) => ({ id, licence: fleet })));
    advance(1000);
    const revocation = sup.revoke('fleet-1', 'contract ended');
    expect(sup.revoke('fleet-1', 'again')).toEqual(revocation);
    advance(1000);
    // The grace counts from the revocation: nothing is gated before it is over.
    expect(sup.nodes().map((n) => n.state)).toEqual(['online', 'online', 'online']);
    advance(60_000);
    expect(sup.nodes().map((n) => [n.state, n.reason])).toEqual(
      ['a', 'b', 'c'].map(() => ['isolated', 'licence: revoked (contract ended)']),
    );
    expect(refusal(() => sup.register({ id: 'd', licence: fleet }))).toBe('revoked');
    await sup.stop();
  });

  it('carries a revocation to a second supervisor sharing the state store, which gates the node', async () => {
    const store = new MemoryStateStore();
    const first = licensed({ stateStore: store });
    first.sup.register({ id: 'node-7', licence: await licence({ id: 'lic-7' }) });
    const clock = new SimulatedClock();
    clock.set(start);
    const second = licensed({ stateStore: store }, clock);
    expect(second.sup.licence('node-7')?.status).toBe('valid');
    second.advance(1000);
    expect(second.sup.node('node-7')?.state).toBe('online');
    first.sup.revoke('lic-7', 'key compromised');
    second.advance(1000);
    expect(second.sup.revocations()).toMatchObject([
      { licenceId: 'lic-7', reason: 'key compromised' },
    ]);
    expect(second.sup.node('node-7')).toMatchObject({
      state: 'isolated',
      reason: 'licence: revoked (key compromised)',
    });
    // The second one's own saves keep the first one's revocation.
    expect(store.load()?.revocations).toMatchObject([{ licenceId: 'lic-7' }]);
    await first.sup.stop();
    await second.sup.stop();
  });

  it('restores licences and revocations after a restart, and checks the signature again', async () => {
    const store = new MemoryStateStore();
    const first = licensed({ stateStore: store });
    first.sup.register({ id: 'node-7', licence: await licence() });
    first.sup.revoke('other', 'unused');
    await first.sup.stop();
    // The key that signed node-7's licence is no longer trusted: the licence is invalid now.
    const second = licensed({ stateStore: store, licensing: { keys: [rotated.publicJwk] } });
    expect(second.sup.revocations().map((r) => r.licenceId)).toEqual(['other']);
    expect(second.sup.licence('node-7')).toBeUndefined();
    second.advance(1000);
    expect(second.sup.node('node-7')?.reason).toMatch(/^licence: invalid \(unknown-key/);
    await second.sup.stop();
  });

  it('issues licences that jose itself verifies, with the claims the checker reads', async () => {
    const token = await licence({ features: ['a', 'b'], maxNodes: 3, regions: ['eu'] });
    const { payload, protectedHeader } = await jwtVerify(
      token,
      await importJWK(keys.publicJwk, 'EdDSA'),
      {
        currentDate: new Date(start),
      },
    );
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: keys.kid });
    const check = checkLicence(token, trustedKeys([keys.publicJwk]), { at: start });
    expect(check.ok && check.licence).toMatchObject({
      id: payload.jti,
      features: ['a', 'b'],
      maxNodes: 3,
      regions: ['eu'],
      expiresAt: (payload.exp as number) * 1000,
    });
  });

  it('renews a licence in place, and keeps the old one when the new one is refused', async () => {
    const { sup, advance } = licensed({ licensing: { keys: [keys.publicJwk], warnBeforeMs: 0 } });
    sup.register({ id: 'node-7', licence: await licence({ expiresAt: start + 5000 }) });
    expect(refusal(() => sup.renewLicence('node-7', 'x.y.z'))).toBe('malformed');
    expect(refusal(() => sup.renewLicence('node-7', '' as string))).toBe('missing');
    const renewed = sup.renewLicence('node-7', await licence({ id: 'lic-2' }));
    expect(renewed).toMatchObject({ status: 'valid', licence: { id: 'lic-2' } });
    advance(10_000);
    expect(sup.node('node-7')?.state).not.toBe('isolated');
    await sup.stop();
  });

  it('refuses keys it cannot trust as options', () => {
    const bad = (keys: unknown) => () =>
      createSupervisor({ logger: silentLogger, licensing: { keys } as never });
    expect(bad([])).toThrow(InvalidOptionsError);
    expect(bad([{ kty: 'OKP', crv: 'Ed25519', x: 'abc' }])).toThrow(/needs a key id/);
    expect(bad([keys.privateJwk])).toThrow(/private key/);
    expect(bad([keys.publicJwk, keys.publicJwk])).toThrow(/twice/);
  });
});
