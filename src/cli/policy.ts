import { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { celFormOf } from '../governance/cel.js';
import { evaluateRules } from '../governance/engine.js';
import { loadPolicyFile } from '../governance/policy-file.js';
import type { Policy, Rule } from '../governance/types.js';
import { show } from '../show.js';
import type { NodeSnapshot, NodeState } from '../types.js';

/** `wyneos policy check FILE` and `wyneos policy explain FILE --node JSON`. */
export function policyCommand(write: (line: string) => void): Command {
  const command = new Command('policy').description(
    'Check a policy file, or explain its verdicts for one node.',
  );
  command
    .command('check')
    .description('Validate a policy file and print each rule with its compiled form.')
    .argument('<file>', 'policy file (YAML, JSON or a JS/TS module)')
    .action(async (file: string) => {
      const policy = await loadPolicyFile(file);
      write(`${file}: policy ${policy.version}, ${policy.rules.length} rules, all valid`);
      for (const rule of policy.rules) for (const line of describe(rule)) write(line);
    });
  command
    .command('explain')
    .description("Show each rule's verdict for one node.")
    .argument('<file>', 'policy file (YAML, JSON or a JS/TS module)')
    .requiredOption(
      '--node <json>',
      'the node as JSON: { "id": "n1", "labels": {}, "version": "1.4.0", "load": 0.5, "metrics": {} }',
    )
    .option('--now <time>', 'the time the rules see, as an ISO date (default: now)')
    .action(async (file: string, flags: { node: string; now?: string }) => {
      const node = parseNode(flags.node);
      const at = flags.now === undefined ? Date.now() : parseTime(flags.now);
      const policy: Policy = await loadPolicyFile(file);
      const report = evaluateRules(policy, { tick: 0, at, nodes: [node] });
      const byRule = new Map(report.results.map((r) => [r.ruleId, r]));
      for (const rule of policy.rules) {
        const result = byRule.get(rule.id);
        const outcome = result?.outcome ?? (pass(report, rule.id) ? 'pass' : 'skip');
        write(`${outcome.padEnd(5)} ${rule.id}${result ? `: ${result.message}` : ''}`);
      }
    });
  return command;
}

function pass(report: ReturnType<typeof evaluateRules>, ruleId: string): boolean {
  return report.rules.some((r) => r.ruleId === ruleId && r.pass > 0);
}

function describe(rule: Rule): string[] {
  const enforcement = `${rule.enforcement ?? 'audit'}, ${rule.severity ?? 'medium'}`;
  const form = celFormOf(rule);
  if (form === undefined) return [`  ${rule.id} (${enforcement}): ${rule.description}`];
  const how = form.closures ? 'compiled' : 'interpreted';
  const lines = [`  ${rule.id} (${enforcement}): cel ${form.compiled} [${how}]`];
  if (form.compiledMessage !== undefined) lines.push(`    message: ${form.compiledMessage}`);
  return lines;
}

const states: readonly NodeState[] = ['online', 'overloaded', 'isolated', 'offline'];

// Every field but the id has a default, so `{"id":"n1","load":0.9}` is enough to try a rule.
function parseNode(text: string): NodeSnapshot {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError('--node', `not JSON: ${(error as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new InvalidArgumentError('--node', `expected a JSON object, got ${show(data)}`);
  }
  const n = data as Record<string, unknown>;
  const known = ['id', 'labels', 'version', 'load', 'metrics', 'suspicion', 'trust', 'state'];
  const extra = Object.keys(n).find((key) => !known.includes(key));
  if (extra !== undefined) {
    throw new InvalidArgumentError(`--node ${extra}`, `not a node field; the fields are ${known}`);
  }
  const problem = (key: string, expected: string) =>
    new InvalidArgumentError(`--node ${key}`, `expected ${expected}, got ${show(n[key])}`);
  if (typeof n.id !== 'string' || n.id === '') throw problem('id', 'a non-empty string');
  const record = (key: string, type: 'string' | 'number') => {
    const value = n[key] ?? {};
    const ok =
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      Object.values(value).every(
        (v) => typeof v === type && (type === 'string' || Number.isFinite(v)),
      );
    if (!ok) throw problem(key, `an object of ${type}s`);
    return value as Record<string, never>;
  };
  const number = (key: string, fallback: number, low: number, high: number) => {
    const value = n[key] ?? fallback;
    if (typeof value !== 'number' || !(value >= low && value <= high)) {
      throw problem(key, `a number from ${low} to ${high}`);
    }
    return value;
  };
  if (n.version !== undefined && typeof n.version !== 'string')
    throw problem('version', 'a string');
  if (n.state !== undefined && !states.includes(n.state as NodeState)) {
    throw problem('state', `one of ${states.join(', ')}`);
  }
  return {
    id: n.id,
    state: (n.state as NodeState | undefined) ?? 'online',
    since: 0,
    reason: 'explain',
    isolations: 0,
    reinstateAt: undefined,
    probationUntil: undefined,
    escalation: 0,
    labels: record('labels', 'string'),
    version: n.version as string | undefined,
    registeredAt: 0,
    load: number('load', 0, 0, 1),
    metrics: record('metrics', 'number'),
    seq: undefined,
    lastHeartbeatAt: undefined,
    suspicion: number('suspicion', 0, 0, Number.MAX_VALUE),
    trust: number('trust', 1, 0, 1),
  };
}

function parseTime(text: string): number {
  const at = Date.parse(text);
  if (Number.isNaN(at)) {
    throw new InvalidArgumentError('--now', `expected an ISO date, got ${show(text)}`);
  }
  return at;
}
