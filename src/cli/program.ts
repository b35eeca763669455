import { Command } from 'commander';
import { packageVersion } from '../version.js';
import { agentCommand } from './agent.js';
import { auditCommand } from './audit.js';
import { runDemo } from './demo.js';
import { diagramCommand } from './diagram.js';
import { licenceCommand } from './licence.js';
import { natsConfigCommand } from './nats-config.js';
import { openapiCommand } from './openapi.js';
import { durationOption, integerAtLeast, oneOf } from './parsers.js';
import { policyCommand } from './policy.js';
import { relayCommand } from './relay.js';
import { replayCommand } from './replay.js';
import { serveCommand } from './serve.js';
import { defaultFaultMix, type ProgressStyle, runSimulation } from './simulate.js';
import { tokenCommand } from './token.js';
import { behaveAsCli } from './usage.js';

/** The `wyneos` command. `write` receives every line the command prints. */
export function createProgram(
  write: (line: string) => void = (line) => console.log(line),
  progress: ProgressStyle = process.stderr.isTTY ? 'bar' : 'lines',
): Command {
  const program = new Command('wyneos')
    .description('A governance and self-healing runtime for fleets of nodes.')
    .version(packageVersion(), '-v, --version');

  program
    .command('simulate')
    .description(
      'Simulate a fleet with injected faults under a real supervisor and report what it detected, missed and did.',
    )
    .option('--nodes <count>', 'nodes in the fleet', integerAtLeast(1), 1000)
    .addOption(
      durationOption(
        '--duration <duration>',
        'simulated time to run (500ms, 30s, 5m, 1h)',
        3_600_000,
      ),
    )
    .addOption(durationOption('--tick <duration>', 'tick period', 1000))
    .addOption(
      durationOption('--heartbeat-timeout <duration>', 'silence before a node is offline', 3000),
    )
    .option(
      '--detector <kind>',
      'failure detector: timeout or phi',
      oneOf(['timeout', 'phi']),
      'timeout',
    )
    .option(
      '--seed <number>',
      'seed of every random choice: the same seed gives the same run',
      integerAtLeast(0),
      42,
    )
    .option(
      '--faults <mix>',
      'faults as kind=share[@start][+duration], comma-separated; "" for none',
      defaultFaultMix,
    )
    .option(
      '--policy <file>',
      'policy file (YAML, JSON or a JS/TS module); default: a built-in policy',
    )
    .option('--invariants <module>', 'a JS/TS module exporting more invariants to check')
    .option('--json <file>', 'write the full result as JSON (byte-identical for the same seed)')
    .option('--record <dir>', "record the fleet's inputs as a trace for wyneos replay")
    .action(
      async (flags: {
        nodes: number;
        duration: number;
        tick: number;
        heartbeatTimeout: number;
        detector: 'timeout' | 'phi';
        seed: number;
        faults: string;
        policy?: string;
        invariants?: string;
        json?: string;
        record?: string;
      }) => {
        const result = await runSimulation(
          {
            nodes: flags.nodes,
            durationMs: flags.duration,
            tickMs: flags.tick,
            heartbeatTimeoutMs: flags.heartbeatTimeout,
            detector: flags.detector,
            seed: flags.seed,
            faults: flags.faults,
            ...(flags.policy === undefined ? {} : { policy: flags.policy }),
            ...(flags.invariants === undefined ? {} : { invariants: flags.invariants }),
            ...(flags.json === undefined ? {} : { json: flags.json }),
            ...(flags.record === undefined ? {} : { record: flags.record }),
          },
          { write, progress },
        );
        if (!result.ok) process.exitCode = 1;
      },
    );

  program
    .command('demo')
    .description('Run a small in-process fleet under simulated time and print what happens.')
    .option('--nodes <count>', 'nodes in the fleet (at least 18)', integerAtLeast(18), 20)
    .option('--seconds <count>', 'simulated seconds to run', integerAtLeast(1), 60)
    .addOption(durationOption('--tick <duration>', 'tick period', 1000, 10))
    .action((flags: { nodes: number; seconds: number; tick: number }) => {
      runDemo({ nodes: flags.nodes, seconds: flags.seconds, tickMs: flags.tick, write });
    });
  program.addCommand(serveCommand());
  program.addCommand(agentCommand());
  program.addCommand(tokenCommand(write));
  program.addCommand(licenceCommand(write));
  program.addCommand(natsConfigCommand(write));
  program.addCommand(relayCommand());

  program.addCommand(auditCommand(write));
  program.addCommand(diagramCommand(write));
  program.addCommand(policyCommand(write));
  program.addCommand(openapiCommand(write));
  program.addCommand(replayCommand(write));

  return behaveAsCli(program);
}
