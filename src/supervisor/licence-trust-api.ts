import type { NodeActorRef, TickReview } from '../../machines/supervisor.machine.js';
import { InvalidArgumentError } from '../errors.js';
import type { GovernanceReport } from '../governance/index.js';
import type { NodeLicence } from '../licensing/index.js';
import type { TelemetryStore } from '../telemetry/index.js';
import type { TrustBook } from '../trust/index.js';
import type { NodeSnapshot } from '../types.js';
import type { Journal } from './journal.js';
import type { SupervisorLicensing } from './licensing.js';
import type { ResolvedOptions } from './options.js';
import type { Supervisor } from './types.js';

/** What the licence and trust operations need of the supervisor they belong to. */
export interface LicenceAndTrustDeps {
  readonly config: ResolvedOptions;
  readonly store: TelemetryStore<NodeActorRef>;
  readonly trust: TrustBook;
  readonly licensing: SupervisorLicensing;
  readonly journal: Journal;
  readonly existing: (nodeId: unknown, operation: string) => NodeSnapshot;
  readonly assertRunning: (operation: string) => void;
  readonly durably: <T>(operation: string, run: () => T) => T;
}

type LicenceAndTrustApi = Pick<
  Supervisor,
  'explainTrust' | 'reportIncident' | 'revoke' | 'renewLicence' | 'revocations' | 'licence'
>;

/** The supervisor's licence and trust operations; each checks its input before it changes anything. */
export function licenceAndTrustOperations(deps: LicenceAndTrustDeps): LicenceAndTrustApi {
  const { config, store, trust, licensing, journal, existing, assertRunning, durably } = deps;
  const { clock } = config;
  return {
    explainTrust(nodeId) {
      const node = existing(nodeId, 'explain trust');
      return trust.explain(node.id, store.get(node.id)?.trust, clock.now());
    },

    reportIncident(nodeId, kind, detail) {
      const node = existing(nodeId, 'report an incident');
      if (kind === ('rule' as never) || !(kind in config.trust.weights)) {
        throw new InvalidArgumentError(
          'kind',
          `expected one of ${Object.keys(config.trust.weights).join(', ')}`,
        );
      }
      if (typeof detail !== 'string' || detail.length > 1024) {
        throw new InvalidArgumentError('detail', 'expected a string of at most 1024 characters');
      }
      trust.note(node.id, kind, detail);
    },

    revoke(licenceId, reason) {
      assertRunning('revoke a licence');
      return durably('revoke a licence', () => {
        const at = clock.now();
        const revocation = licensing.revoke(licenceId, reason, at);
        if (revocation === undefined) {
          return licensing.revocations.get(licenceId) as NonNullable<
            ReturnType<typeof licensing.revocations.get>
          >;
        }
        journal.record('operator', undefined, { command: 'revoke', ...revocation });
        return revocation;
      });
    },

    renewLicence(nodeId, token) {
      const node = existing(nodeId, 'renew a licence');
      const { book: licences } = licensing;
      if (licences === undefined) {
        throw new InvalidArgumentError('licence', 'this supervisor has no licensing option');
      }
      return durably('renew a licence', () => {
        const at = clock.now();
        const licence = licences.renew({ id: node.id, labels: node.labels, licence: token }, at);
        licensing.emit({ type: 'admitted', at, nodeId: node.id, licenceId: licence.id });
        return licences.view(node.id, at) as NodeLicence;
      });
    },

    revocations() {
      return licensing.revocations.list();
    },

    licence(nodeId) {
      return licensing.view(nodeId, clock.now());
    },
  };
}

/** @internal How a tick feeds the trust book (the heartbeat path notes its own refusals). */
export function trustNotes(trust: TrustBook) {
  // What a tick did to each node's trust: failing rules, flapping isolations, licence trouble
  // (offline incidents and rejected heartbeats were noted as they happened).
  function noteTrust(tick: number, at: number, report: GovernanceReport, review: TickReview): void {
    trust.noteFailures(report);
    for (const { action } of review.approved) {
      // A merged isolation may have flapping among its causes, not first.
      const flapping = (action.causes ?? [action]).find((cause: { reason: string }) =>
        cause.reason.startsWith('flapping'),
      );
      if (action.type === 'isolate' && flapping !== undefined) {
        trust.note(action.nodeId, 'flapping', flapping.reason);
      }
    }
    for (const { nodeId, status } of review.licence?.changed ?? []) {
      if (status !== 'valid' && status !== 'expiring')
        trust.note(nodeId, 'licence', `licence ${status}`);
    }
    trust.tick(tick, at);
  }

  return { noteTrust };
}
