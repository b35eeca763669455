#!/usr/bin/env node
import { createProgram } from './program.js';
import { exitCodeFor } from './usage.js';

// Output piped into `head` and the like: a closed pipe ends the command quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = createProgram();
if (process.argv.length <= 2) {
  // A bare `wyneos` shows what it can do rather than starting anything.
  program.outputHelp();
} else {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    process.exitCode = exitCodeFor(error, (line) => console.error(line));
  }
}
