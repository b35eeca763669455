import { allowedLabelValues, type Enforcement, maxLoad, minVersion, type Policy } from 'wyneos';

/**
 * The few policies the "change policy" command switches between. Each pairs the real rules
 * (built-ins, as a user writes them) with the model's own reading of them: a plain predicate
 * per rule, written from the rule's description rather than from its code.
 *
 * Every rule id is used by one policy only: whether a rule's `for` streak survives a policy
 * change that keeps its id is not documented, so the model never has to guess.
 */
export interface ModelRule {
  readonly id: string;
  readonly enforcement: Enforcement;
  /** Consecutive failing ticks before enforcement acts. */
  readonly for: number;
  /** Checked at registration too (a `deny` rule): a node that fails it is refused. */
  readonly admission: boolean;
  /** The nodes the rule applies to; the others are skipped. */
  readonly applies: (node: RuleInput) => boolean;
  readonly fails: (node: RuleInput) => boolean;
}

/** What the model's rules look at: metadata and the latest load. */
export interface RuleInput {
  readonly labels: Readonly<Record<string, string>>;
  readonly version: string | undefined;
  readonly load: number;
}

export interface ModelPolicy {
  readonly name: PolicyName;
  /** How the policy prints in a scenario line. */
  readonly summary: string;
  readonly policy: Policy;
  readonly rules: readonly ModelRule[];
}

/** The versions registrations use, oldest first. */
export const versions = ['1.0.0', '1.2.0', '2.0.0'] as const;
export const zones = ['a', 'b', 'c'] as const;

const everyNode = () => true;
const inZoneAOrB = (node: RuleInput) => node.labels.zone === 'a' || node.labels.zone === 'b';
// Versions before 1.2.0 among those registrations use; a node without a version fails too.
const olderThan1dot2 = (node: RuleInput) => node.version === undefined || node.version === '1.0.0';

export const policies: Readonly<Record<PolicyName, ModelPolicy>> = {
  none: {
    name: 'none',
    summary: 'no rules',
    policy: { version: 'p0-none', rules: [] },
    rules: [],
  },
  versions: {
    name: 'versions',
    summary: 'warn below v1.2.0; audit load over 0.8 in zone a',
    policy: {
      version: 'p1-versions',
      rules: [
        minVersion('1.2.0', { id: 'version-warn', enforcement: 'warn' }),
        maxLoad(0.8, { id: 'zone-a-load-audit', appliesTo: { zone: 'a' } }),
      ],
    },
    rules: [
      {
        id: 'version-warn',
        enforcement: 'warn',
        for: 1,
        admission: false,
        applies: everyNode,
        fails: olderThan1dot2,
      },
      {
        id: 'zone-a-load-audit',
        enforcement: 'audit',
        for: 1,
        admission: false,
        applies: (node) => node.labels.zone === 'a',
        fails: (node) => node.load > 0.8,
      },
    ],
  },
  isolateZones: {
    name: 'isolateZones',
    summary: 'isolate nodes outside zones a and b after 2 ticks',
    policy: {
      version: 'p2-isolate-zones',
      rules: [
        allowedLabelValues('zone', ['a', 'b'], {
          id: 'zone-isolate',
          enforcement: 'isolate',
          for: 2,
        }),
      ],
    },
    rules: [
      {
        id: 'zone-isolate',
        enforcement: 'isolate',
        for: 2,
        admission: false,
        applies: everyNode,
        fails: (node) => !inZoneAOrB(node),
      },
    ],
  },
  denyZones: {
    name: 'denyZones',
    summary: 'refuse nodes outside zones a and b',
    policy: {
      version: 'p3-deny-zones',
      rules: [allowedLabelValues('zone', ['a', 'b'], { id: 'zone-deny', enforcement: 'deny' })],
    },
    rules: [
      {
        id: 'zone-deny',
        enforcement: 'deny',
        for: 1,
        admission: true,
        applies: everyNode,
        fails: (node) => !inZoneAOrB(node),
      },
    ],
  },
  strict: {
    name: 'strict',
    summary: 'isolate below v1.2.0 at once; warn after 2 ticks over 0.8 load',
    policy: {
      version: 'p4-strict',
      rules: [
        minVersion('1.2.0', { id: 'version-isolate', enforcement: 'isolate' }),
        maxLoad(0.8, { id: 'load-warn', enforcement: 'warn', for: 2 }),
      ],
    },
    rules: [
      {
        id: 'version-isolate',
        enforcement: 'isolate',
        for: 1,
        admission: false,
        applies: everyNode,
        fails: olderThan1dot2,
      },
      {
        id: 'load-warn',
        enforcement: 'warn',
        for: 2,
        admission: false,
        applies: everyNode,
        fails: (node) => node.load > 0.8,
      },
    ],
  },
};

export type PolicyName = 'none' | 'versions' | 'isolateZones' | 'denyZones' | 'strict';
export const policyNames = Object.keys(policies) as PolicyName[];
