#!/usr/bin/env node
import { WyneosError } from '../errors.js';
import { createProgram } from './program.js';

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  // A mistake in what the user gave (a policy file, a fault) is a message, not a stack trace.
  if (!(error instanceof WyneosError)) throw error;
  process.stderr.write(`wyneos: ${error.message} (${error.code})\n`);
  process.exitCode = 2;
}
