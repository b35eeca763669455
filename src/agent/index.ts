export { type Agent, type AgentOptions, createAgent } from './agent.js';
export { backoffDelay } from './backoff.js';
export { fileLoad, hostLoad, type LoadSample, type LoadSource } from './load.js';
