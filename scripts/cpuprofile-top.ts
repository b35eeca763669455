/**
 * Sums the self time of a V8 `.cpuprofile` (from `node --cpu-prof`) by function and file, and
 * prints the top entries:
 *
 *   tsx scripts/cpuprofile-top.ts <file.cpuprofile> [--top 15] [--under <function>[@<file>]]
 *
 * `--under` keeps only the samples taken beneath a frame of that function (and file, when
 * given: a substring of its URL), e.g. `--under tick@create-supervisor` for the ticks alone;
 * shares are then of that subtree's time. V8 files GC samples at the root, not under the
 * function that allocated, so `--under` leaves GC out: measure it with perf_hooks instead.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function main(args: readonly string[]): void {
  const file = args[0];
  if (file === undefined || file.startsWith('--')) {
    throw new Error('usage: cpuprofile-top <file.cpuprofile> [--top 15] [--under fn[@file]]');
  }
  const top = Number(option(args, '--top') ?? 15);
  const under = option(args, '--under');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const [fn, inFile] = under?.split('@') ?? [];
  const matches = (f: CallFrame) =>
    f.functionName === fn && (inFile === undefined || f.url.includes(inFile));
  const inside = new Map<number, boolean>();
  const isInside = (id: number): boolean => {
    if (under === undefined) return true;
    const known = inside.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const up = parent.get(id);
    const result =
      node !== undefined && (matches(node.callFrame) || (up !== undefined && isInside(up)));
    inside.set(id, result);
    return result;
  };

  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    // timeDeltas[i] is the time before sample i; it is the best estimate of its duration.
    const micros = profile.timeDeltas[i] ?? 0;
    if (!isInside(id)) return;
    const node = byId.get(id);
    if (node === undefined) return;
    const key = label(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + micros);
    total += micros;
  });

  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
  console.log(
    `${(total / 1000).toFixed(0)} ms sampled${under === undefined ? '' : ` under ${under}`}\n`,
  );
  console.log('| # | self ms | self % | function | where |\n| --- | --- | --- | --- | --- |');
  rows.forEach(([key, micros], i) => {
    const [name, where] = key.split('\t');
    const share = ((100 * micros) / total).toFixed(1);
    console.log(`| ${i + 1} | ${(micros / 1000).toFixed(0)} | ${share} | \`${name}\` | ${where} |`);
  });
}

function label(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return `${name}\t`;
  let where = frame.url;
  if (where.startsWith('file://')) where = relative(process.cwd(), fileURLToPath(where));
  where = where.replace(/^.*node_modules\//, '');
  // tsx runs TypeScript as one transformed line per module: a line number would mislead.
  return frame.lineNumber > 0 ? `${name}\t${where}:${frame.lineNumber + 1}` : `${name}\t${where}`;
}

function option(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
}

main(process.argv.slice(2));
