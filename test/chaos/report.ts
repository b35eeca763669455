/** The invariants, in the order the summary lists them. */
export const invariantNames = [
  'no node revived without a heartbeat',
  'no acknowledged decision lost (audit)',
  'no acknowledged decision lost (state)',
  'saved state only holds audited isolations',
  'no audit gap',
  'no replayed heartbeat accepted',
  'server died only by our kill -9',
  '/healthz answered after every fault',
] as const;
export type Invariant = (typeof invariantNames)[number];

/** How often each fault was injected, and each invariant held or failed, with evidence. */
export class Tally {
  readonly injected = new Map<string, number>();
  readonly skipped = new Map<string, string>();
  readonly notes: string[] = [];
  readonly #held = new Map<Invariant, number>();
  readonly #failed = new Map<Invariant, number>();
  readonly #evidence = new Map<Invariant, Set<string>>();

  inject(kind: string): void {
    this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
  }

  /** One check of an invariant: it held when there are no violations. */
  check(name: Invariant, violations: readonly string[]): void {
    const into = violations.length === 0 ? this.#held : this.#failed;
    into.set(name, (into.get(name) ?? 0) + 1);
    const evidence = this.#evidence.get(name) ?? new Set();
    for (const v of violations) evidence.add(v);
    this.#evidence.set(name, evidence);
  }

  failures(): Invariant[] {
    return invariantNames.filter((name) => (this.#failed.get(name) ?? 0) > 0);
  }

  /** The summary: faults injected, then each invariant with ✓/✗ and its counts and evidence. */
  table(seed: number, rounds: number): string {
    const lines = [`chaos: seed ${seed}, ${rounds} rounds (rerun: WYNEOS_CHAOS_SEED=${seed})`];
    lines.push('', '  fault injected                         count');
    for (const [kind, count] of this.injected) lines.push(`  ${kind.padEnd(38)} ${count}`);
    for (const [kind, why] of this.skipped) lines.push(`  ${kind.padEnd(38)} skipped: ${why}`);
    lines.push('', '  invariant                                   held  failed');
    for (const name of invariantNames) {
      const held = this.#held.get(name) ?? 0;
      const failed = this.#failed.get(name) ?? 0;
      const mark = failed > 0 ? '✗' : held > 0 ? '✓' : '-';
      lines.push(
        `  ${mark} ${name.padEnd(42)} ${String(held).padStart(4)}  ${String(failed).padStart(6)}`,
      );
    }
    for (const name of this.failures()) {
      const evidence = [...(this.#evidence.get(name) ?? [])];
      lines.push('', `  ✗ ${name}: ${evidence.length} finding(s)`);
      for (const e of evidence.slice(0, 8)) lines.push(`    - ${e}`);
      if (evidence.length > 8) lines.push(`    ... and ${evidence.length - 8} more`);
    }
    if (this.notes.length > 0) lines.push('', ...this.notes.map((n) => `  note: ${n}`));
    return lines.join('\n');
  }
}
