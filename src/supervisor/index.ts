export { createSupervisor } from './create-supervisor.js';
export { defaultOptions } from './options.js';
export type { AdmissionDecision, Supervisor, SupervisorOptions, TickSummary } from './types.js';
