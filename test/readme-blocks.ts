import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { marked, type Tokens } from 'marked';

export const root = fileURLToPath(new URL('..', import.meta.url));

/** The README's first `sh` block that contains `text`, as a user would paste it. */
export function readmeBlock(text: string): string {
  const tokens = marked.lexer(readFileSync(`${root}README.md`, 'utf8'));
  const block = tokens.find(
    (t): t is Tokens.Code => t.type === 'code' && t.lang === 'sh' && t.text.includes(text),
  );
  if (block === undefined) throw new Error(`no sh block with ${text} in the README`);
  return block.text;
}

/** What a script printed and how it ended. */
export interface ScriptRun {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/**
 * Runs `script` with bash (`-euo pipefail`) from the repository's root, in a process group of
 * its own, which `stop` ends with everything the script left running in the background, as a
 * user's terminal would.
 */
export function runScript(script: string): { done: Promise<ScriptRun>; stop: () => void } {
  const shell = spawn('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  shell.stdout.on('data', (chunk: Buffer) => {
    out += chunk;
  });
  shell.stderr.on('data', (chunk: Buffer) => {
    err += chunk;
  });
  const done = new Promise<ScriptRun>((resolve) =>
    shell.on('exit', (code) => resolve({ code, out, err })),
  );
  return {
    done,
    stop: () => {
      if (shell.pid === undefined) return;
      try {
        process.kill(-shell.pid, 'SIGTERM');
      } catch {
        // The group is gone already.
      }
    },
  };
}
