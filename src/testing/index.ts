/**
 * wyneos/testing: helpers for testing a fleet and its policies under simulated time.
 */
export { SimulatedClock } from 'xstate';
export { advanceClock } from './clock.js';
export { createNodeSnapshot } from './node-snapshot.js';
