import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError as CommanderArgumentError } from 'commander';
import { loadPolicyFile } from '../governance/index.js';
import { parseCondition, replayLines, replayTrace } from '../replay/index.js';

/** `wyneos replay --trace DIR --policy FILE`: a recorded trace under two policies, compared. */
export function replayCommand(write: (line: string) => void): Command {
  return new Command('replay')
    .description(
      'Replay a recorded trace under a policy and a baseline on a simulated clock, and report what they did differently.',
    )
    .requiredOption('--trace <dir>', 'the trace directory that serve or simulate recorded')
    .requiredOption('--policy <file>', 'the policy to try (YAML, JSON or a JS/TS module)')
    .option('--baseline <file>', 'the policy to compare with (default: a policy with no rules)')
    .option('--from <time>', 'first receive time that counts: ISO date or epoch ms', time)
    .option('--to <time>', 'last receive time replayed: ISO date or epoch ms', time)
    .option('--json <file>', 'write the full result as JSON (byte-identical for the same inputs)')
    .option(
      '--fail-if <condition>',
      "exit 1 when this holds, such as 'isolations > 0' (docs/replay.md lists the figures)",
    )
    .action(
      async (flags: {
        trace: string;
        policy: string;
        baseline?: string;
        from?: number;
        to?: number;
        json?: string;
        failIf?: string;
      }) => {
        // Checked first, so a typo in the condition costs no replay.
        const condition = flags.failIf === undefined ? undefined : parseCondition(flags.failIf);
        const policy = await loadPolicyFile(flags.policy);
        const baseline =
          flags.baseline === undefined ? undefined : await loadPolicyFile(flags.baseline);
        const result = await replayTrace(flags.trace, {
          policy,
          ...(baseline === undefined ? {} : { baseline }),
          ...(flags.from === undefined ? {} : { from: flags.from }),
          ...(flags.to === undefined ? {} : { to: flags.to }),
        });
        for (const line of replayLines(result)) write(line);
        if (flags.json !== undefined) {
          await writeFile(flags.json, `${JSON.stringify(result, null, 2)}\n`);
          write(`result written to ${flags.json}`);
        }
        if (condition?.(result) === true) {
          write(`--fail-if '${flags.failIf}' holds: exit code 1`);
          process.exitCode = 1;
        }
      },
    );
}

function time(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new CommanderArgumentError('expected an ISO date (2026-12-07T10:00:00Z) or epoch ms.');
  }
  return ms;
}
