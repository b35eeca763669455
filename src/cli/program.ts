import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { agentCommand } from './agent.js';
import { runDemo } from './demo.js';
import { integerAtLeast } from './parsers.js';
import { serveCommand } from './serve.js';
import { tokenCommand } from './token.js';

/** The `wyneos` command. `write` receives every line the command prints. */
export function createProgram(
  write: (line: string) => void = (line) => console.log(line),
): Command {
  const program = new Command('wyneos')
    .description('A governance and self-healing runtime for fleets of nodes.')
    .version(packageVersion(), '-v, --version');

  program
    .command('demo', { isDefault: true })
    .description('Run a small in-process fleet under simulated time and print what happens.')
    .option('--nodes <count>', 'nodes in the fleet (at least 18)', integerAtLeast(18), 20)
    .option('--seconds <count>', 'simulated seconds to run', integerAtLeast(1), 60)
    .option('--tick <ms>', 'tick period in milliseconds', integerAtLeast(10), 1000)
    .action((flags: { nodes: number; seconds: number; tick: number }) => {
      runDemo({ nodes: flags.nodes, seconds: flags.seconds, tickMs: flags.tick, write });
    });
  program.addCommand(serveCommand());
  program.addCommand(agentCommand());
  program.addCommand(tokenCommand(write));

  return program;
}

// Read at run time from the package root, whether running from src/ or from dist/src/.
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'wyneos' && pkg.version !== undefined) return pkg.version;
    } catch {
      // No package.json at this level: keep walking up.
    }
  }
  return 'unknown';
}
