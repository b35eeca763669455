import { type Command, CommanderError } from 'commander';
import { WyneosError } from '../errors.js';

/**
 * What `wyneos` exits with. Scripts and service managers tell a mistake in the command line
 * (fix the flags, restarting won't help) from a failure while running (restarting may).
 */
export const exitCodes = {
  /** The command did what it was asked. */
  ok: 0,
  /** It ran, and what it checked failed: a simulation broke an invariant, a licence is invalid. */
  failed: 1,
  /** Usage: a flag, a file, a config or a policy is wrong, or the state dir is held by another process. */
  usage: 2,
  /** Runtime: the command could not go on (a port taken, a file it must write refused). */
  runtime: 3,
} as const;

/**
 * Makes `program` and every command under it report a usage error the one wyneos way,
 * `wyneos: <message>` on stderr, and throw instead of exiting, so `main` decides the exit code.
 */
export function behaveAsCli(program: Command): Command {
  for (const command of [program, ...allCommands(program)]) {
    command
      .exitOverride()
      .showSuggestionAfterError(true)
      .configureOutput({
        outputError: (text, write) => write(`${usageLine(text)}\n`),
      });
  }
  return program;
}

/** `error: unknown command 'serv'\n(Did you mean serve?)` → `wyneos: unknown command 'serv' (did you mean serve?)`. */
export function usageLine(text: string): string {
  const message = text
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\(Did you mean (.+)\?\)$/, ' (did you mean $1?)');
  return `wyneos: ${message}`;
}

/** The exit code for what a command threw, after saying what went wrong in one line. */
export function exitCodeFor(error: unknown, writeErr: (line: string) => void): number {
  // Commander has already printed its message (and help or the version exit 0).
  if (error instanceof CommanderError) return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
  if (error instanceof WyneosError) {
    writeErr(`wyneos: ${error.message}`);
    return exitCodes.usage;
  }
  const system = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (system?.syscall === 'listen') {
    const where = system.port === undefined ? system.address : `${system.address}:${system.port}`;
    writeErr(`wyneos: cannot listen on ${where}: ${listenProblem(system.code)}`);
    return exitCodes.runtime;
  }
  if (typeof system?.code === 'string' && typeof system.message === 'string') {
    writeErr(`wyneos: ${system.message}`);
    return exitCodes.runtime;
  }
  throw error;
}

function listenProblem(code: string | undefined): string {
  if (code === 'EADDRINUSE') return 'the address is already in use (another process listens there)';
  if (code === 'EACCES') return 'permission denied (ports below 1024 need privileges)';
  if (code === 'EADDRNOTAVAIL') return 'no interface of this machine has that address';
  return code ?? 'unknown error';
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}
