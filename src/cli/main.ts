#!/usr/bin/env node
import { WyneosError } from '../errors.js';
import { createProgram } from './program.js';

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  // A mistake in the flags, a file or the config: the message says what to fix, no stack.
  if (!(error instanceof WyneosError)) throw error;
  console.error(`wyneos: ${error.message}`);
  process.exitCode = 2;
}
