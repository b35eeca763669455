/**
 * wyneos/testing: helpers for testing a fleet and its policies under simulated time.
 */
export { SimulatedClock } from 'xstate';
export { advanceClock } from './clock.js';
