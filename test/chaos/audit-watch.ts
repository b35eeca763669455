import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditRecord } from 'wyneos';

/** An audit record with when the harness first saw it on disk, in the harness's own clock. */
export interface SeenRecord {
  readonly record: AuditRecord;
  readonly line: string;
  /** The last look that did not find it yet: it was written after this. */
  readonly notBefore: number;
  /** The look that found it: it was written before this. */
  readonly seen: number;
}

/**
 * Reads `audit.jsonl` every `everyMs` and stamps each new complete line with the harness's
 * time. The server's own `at` fields come from its wall clock, which the test jumps; these
 * stamps do not. Every line seen is kept, so a record that later vanishes from the file is
 * still known.
 */
export class AuditWatch {
  readonly seen = new Map<string, SeenRecord>();
  readonly #file: string;
  #lastLook = Date.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(stateDir: string, everyMs = 50) {
    this.#file = join(stateDir, 'audit.jsonl');
    this.#timer = setInterval(() => this.look(), everyMs);
  }

  look(): void {
    const now = Date.now();
    let text: string;
    try {
      text = readFileSync(this.#file, 'utf8');
    } catch {
      this.#lastLook = now;
      return;
    }
    const end = text.lastIndexOf('\n');
    for (const line of text.slice(0, end + 1).split('\n')) {
      if (line === '' || this.seen.has(line)) continue;
      try {
        const record = JSON.parse(line) as AuditRecord;
        this.seen.set(line, { record, line, notBefore: this.#lastLook, seen: now });
      } catch {
        // A damaged line is the audit invariant's business, read from the final files.
      }
    }
    this.#lastLook = now;
  }

  /** Every record seen, by seq and then by when it was first seen. */
  records(): SeenRecord[] {
    return [...this.seen.values()].sort((a, b) => a.record.seq - b.record.seq || a.seen - b.seen);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.look();
  }
}
