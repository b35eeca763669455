import semver from 'semver';
import { InvalidHeartbeatError, InvalidNodeError } from '../errors.js';
import {
  describeSchemaError,
  validateHeartbeatShape,
  validateRegistrationShape,
} from './schemas.js';
import type { Heartbeat, NodeRegistration } from './types.js';

/** Checks a heartbeat from anywhere (API, HTTP, bus); throws InvalidHeartbeatError. */
export function parseHeartbeat(input: unknown): Heartbeat {
  const problem = heartbeatProblem(input);
  if (problem !== undefined) throw problem;
  return input as Heartbeat;
}

/** What is wrong with a heartbeat, or undefined when it is well-formed; never throws. */
export function heartbeatProblem(input: unknown): InvalidHeartbeatError | undefined {
  if (validateHeartbeatShape(input)) return undefined;
  const { path, problem } = describeSchemaError(validateHeartbeatShape.errors?.[0], input);
  return new InvalidHeartbeatError(path, problem);
}

/**
 * Checks a registration; throws InvalidNodeError. `at` prefixes the error's path, such as
 * `/3` for the fourth registration of a batch.
 */
export function parseRegistration(input: unknown, at = ''): NodeRegistration {
  if (!validateRegistrationShape(input)) {
    const { path, problem } = describeSchemaError(validateRegistrationShape.errors?.[0], input);
    throw new InvalidNodeError(at + path, problem);
  }
  if (input.version !== undefined && semver.valid(input.version) === null) {
    throw new InvalidNodeError(
      `${at}/version`,
      `must be a semantic version such as 1.4.2 (got ${JSON.stringify(input.version)})`,
    );
  }
  return input;
}
