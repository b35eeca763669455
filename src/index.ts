/**
 * wyneos: a governance and self-healing runtime for fleets of nodes.
 * Everything a user imports comes from here or from `wyneos/testing`.
 */

export { governanceMachine } from '../machines/governance.machine.js';
export { healingMachine } from '../machines/healing.machine.js';
export { nodeMachine } from '../machines/node.machine.js';
export { supervisorMachine } from '../machines/supervisor.machine.js';
export { type Clock, systemClock } from './clock.js';
export {
  AdmissionDeniedError,
  type AdmissionFailure,
  BodyTooLargeError,
  DuplicateNodeError,
  DuplicateRuleError,
  type ErrorCode,
  errorCodes,
  ForbiddenError,
  InternalError,
  InvalidArgumentError,
  InvalidExemptionError,
  InvalidHeartbeatError,
  InvalidNodeError,
  InvalidOptionsError,
  InvalidPolicyError,
  InvalidRequestError,
  InvalidRuleError,
  NoRouteError,
  NotStartedError,
  RateLimitedError,
  StaleHeartbeatError,
  StateCorruptError,
  StateVersionError,
  StorageError,
  SupervisorStoppedError,
  TickInProgressError,
  UnauthenticatedError,
  UnknownNodeError,
  WyneosError,
} from './errors.js';
export {
  allowedLabelValues,
  type BuiltinRuleName,
  builtinRules,
  defineRule,
  type Enforcement,
  type Exemption,
  type ExemptionRequest,
  evaluateRules,
  type GovernanceDecision,
  type GovernanceReport,
  heartbeatFresh,
  type LabelSelector,
  loadPolicyFile,
  matchesSelector,
  maxLoad,
  metricBelow,
  minVersion,
  type Policy,
  parsePolicy,
  parsePolicyText,
  type ResultChange,
  type Rule,
  type RuleContext,
  type RuleOutcome,
  type RuleOverrides,
  type RuleResult,
  type RuleSummary,
  type RuleVerdict,
  requiredLabels,
  type Severity,
} from './governance/index.js';
export {
  type ActionHook,
  type CommandHookOptions,
  type CommandResult,
  commandHook,
  type HealingPlan,
  type HookContext,
  type HookPolicy,
  type OverloadOptions,
  type SafetyOptions,
} from './healing/index.js';
export {
  type ErrorBody,
  type HeartbeatRate,
  type HeartbeatReply,
  nodeToken,
  operatorToken,
  type PendingAction,
  type WyneosPluginOptions,
  wyneosPlugin,
} from './http/index.js';
export {
  createInspectionLog,
  type InspectionRecord,
  inspectionRecord,
} from './inspection/index.js';
export type { Logger } from './logger.js';
export {
  type AuditLog,
  type AuditQuery,
  type AuditRecord,
  type AuditType,
  type DurableNode,
  type DurableState,
  FileAuditLog,
  FileStateStore,
  MemoryAuditLog,
  MemoryStateStore,
  queryAudit,
  type StateStore,
} from './storage/index.js';
export {
  type AdmissionDecision,
  createSupervisor,
  defaultOptions,
  type FleetHealth,
  type Supervisor,
  type SupervisorOptions,
  type TickSummary,
} from './supervisor/index.js';
export {
  type Heartbeat,
  heartbeatSchema,
  type NodeRegistration,
  registrationSchema,
} from './telemetry/index.js';
export type {
  ActionOrigin,
  ActionProposal,
  ActionRecord,
  ActionStatus,
  FleetSnapshot,
  Labels,
  Metrics,
  NodeCommand,
  NodeLifecycleEvent,
  NodeSnapshot,
  NodeState,
  NodeTransition,
  RemediationAction,
  RemediationActionType,
} from './types.js';
