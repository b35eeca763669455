import { Ajv } from 'ajv';
import { thrownMessage } from '../show.js';
import type { DurableNode, DurableState } from './types.js';

/**
 * One node's heartbeat high-water mark: the (epoch, seq) of the last heartbeat
 * accepted from it, as `[nodeId, epoch, seq]`.
 */
export type HighWaterMark = readonly [nodeId: string, epoch: number, seq: number];

/**
 * @internal One line of `state.journal.jsonl`: what one commit changed since the line before.
 * `n` counts lines since the directory was created; the snapshot names the last line it holds,
 * so a line left behind by a compaction cut short is not applied twice.
 */
export interface JournalLine {
  readonly n: number;
  /** When it was saved (the state's `savedAt`); absent on a line of marks only. */
  readonly at?: number;
  /** Everything but the nodes, when that changed. */
  readonly meta?: Meta;
  /** Nodes registered, or whose registration or lifecycle changed, in full. */
  readonly put?: readonly DurableNode[];
  /** Nodes deregistered (or handed to another supervisor). */
  readonly del?: readonly string[];
  /** Heartbeat high-water marks that moved. */
  readonly marks?: readonly HighWaterMark[];
}

/** @internal The state without its nodes and its time. */
export type Meta = Omit<DurableState, 'nodes' | 'savedAt'>;

/** @internal What the store last wrote, to write only what differs from it next. */
export interface JournalBase {
  meta: string;
  readonly nodes: Map<string, DurableNode>;
  // Marks saved since a node's object was: kept apart, since every node's mark can move every
  // tick, and a copy of the node for each would cost more than writing the marks.
  readonly epochs: Map<string, number>;
  readonly seqs: Map<string, number>;
}

// The shape of a line only: the nodes and meta it carries are checked with the whole state
// they build (src/storage/state-schema.ts), which names the field that is wrong.
const lineSchema = {
  type: 'object',
  required: ['n'],
  properties: {
    n: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    at: { type: 'number' },
    meta: { type: 'object' },
    put: { type: 'array', items: { type: 'object', required: ['id'] } },
    del: { type: 'array', items: { type: 'string' } },
    marks: {
      type: 'array',
      items: {
        type: 'array',
        minItems: 3,
        maxItems: 3,
        items: [
          { type: 'string' },
          { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          { type: 'integer', minimum: -1, maximum: Number.MAX_SAFE_INTEGER },
        ],
      },
    },
  },
} as const;

const validateLine = new Ajv({ strict: false, strictNumbers: true }).compile<JournalLine>(
  lineSchema,
);

/** @internal The journal's lines, and where a torn last line starts (what a crash leaves). */
export interface JournalScan {
  readonly lines: JournalLine[];
  readonly tornAt: number | undefined;
}

/**
 * @internal Splits a journal into lines. Only a last line without its newline is torn (one
 * append is one write, so that is what a crash mid-append leaves); any other damage throws,
 * with the byte it is at.
 */
export function scanJournal(bytes: Buffer): JournalScan {
  const lines: JournalLine[] = [];
  let start = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(0x0a, start);
    if (end === -1) return { lines, tornAt: start };
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8', start, end));
    } catch (error) {
      throw new JournalDamage(start, `is not valid JSON (${thrownMessage(error)})`);
    }
    if (!validateLine(value)) {
      const error = validateLine.errors?.[0];
      throw new JournalDamage(
        start,
        `is not a journal line (${error?.instancePath || '/'} ${error?.message ?? 'is invalid'})`,
      );
    }
    const previous = lines.at(-1);
    if (previous !== undefined && value.n !== previous.n + 1) {
      throw new JournalDamage(start, `is line ${value.n} but follows line ${previous.n}`);
    }
    lines.push(value);
    start = end + 1;
  }
  return { lines, tornAt: undefined };
}

/** @internal A damaged journal line: `offset` is the byte it starts at. */
export class JournalDamage extends Error {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {
    super(`the line at byte ${offset} ${problem}`);
  }
}

/** @internal The state a snapshot and the journal lines after it make. */
export function replay(snapshot: DurableState, lines: readonly JournalLine[]): DurableState {
  const nodes = new Map(snapshot.nodes.map((node) => [node.id, node]));
  let meta: Meta = metaOf(snapshot);
  let savedAt = snapshot.savedAt;
  for (const line of lines) {
    if (line.at !== undefined) savedAt = line.at;
    if (line.meta !== undefined) meta = line.meta;
    for (const id of line.del ?? []) nodes.delete(id);
    for (const node of line.put ?? []) nodes.set(node.id, node);
    for (const [id, epoch, seq] of line.marks ?? []) {
      const node = nodes.get(id);
      if (node !== undefined && after(epoch, seq, node)) nodes.set(id, withMark(node, epoch, seq));
    }
  }
  return { ...meta, savedAt, nodes: [...nodes.values()] } as DurableState;
}

/** @internal The base a store diffs its next save against, after writing or reading `state`. */
export function baseOf(state: DurableState): JournalBase {
  return {
    meta: JSON.stringify(metaOf(state)),
    nodes: new Map(state.nodes.map((node) => [node.id, node])),
    epochs: new Map(),
    seqs: new Map(),
  };
}

/**
 * @internal What `next` changes from `base`, as the body of a journal line (without `n`), or
 * undefined when nothing did; `base` is updated to `next`. A node whose only change is its
 * heartbeat mark goes in `marks`, a few bytes rather than the whole node.
 */
export function diff(base: JournalBase, next: DurableState): Omit<JournalLine, 'n'> | undefined {
  const put: DurableNode[] = [];
  const marks: HighWaterMark[] = [];
  const before = base.nodes.size;
  // How many of the base's nodes `next` still has: fewer than the base holds means deletions.
  let kept = 0;
  for (const node of next.nodes) {
    const old = base.nodes.get(node.id);
    if (old !== undefined) kept++;
    const seq = base.seqs.get(node.id);
    if (old === node && seq === undefined) continue;
    if (old === undefined || !sameButMark(old, node)) put.push(node);
    else if (
      (seq ?? old.seq) !== node.seq ||
      (base.epochs.get(node.id) ?? old.epoch ?? 0) !== (node.epoch ?? 0)
    ) {
      marks.push([node.id, node.epoch ?? 0, node.seq]);
    }
    base.nodes.set(node.id, node);
    if (seq !== undefined) {
      base.seqs.delete(node.id);
      base.epochs.delete(node.id);
    }
  }
  const del: string[] = [];
  if (kept < before) {
    const seen = new Set(next.nodes.map((node) => node.id));
    for (const id of base.nodes.keys()) if (!seen.has(id)) del.push(id);
    for (const id of del) {
      base.nodes.delete(id);
      base.seqs.delete(id);
      base.epochs.delete(id);
    }
  }
  const meta = JSON.stringify(metaOf(next));
  const metaChanged = meta !== base.meta;
  base.meta = meta;
  if (!metaChanged && put.length === 0 && del.length === 0 && marks.length === 0) return undefined;
  return {
    at: next.savedAt,
    ...(metaChanged ? { meta: metaOf(next) } : {}),
    ...(put.length === 0 ? {} : { put }),
    ...(del.length === 0 ? {} : { del }),
    ...(marks.length === 0 ? {} : { marks }),
  };
}

/** @internal Applies marks to the base, keeping only those that move a node's mark forward. */
export function markBase(base: JournalBase, marks: readonly HighWaterMark[]): HighWaterMark[] {
  const moved: HighWaterMark[] = [];
  for (const mark of marks) {
    const [id, epoch, seq] = mark;
    const node = base.nodes.get(id);
    if (node === undefined) continue;
    const current = base.epochs.get(id) ?? node.epoch ?? 0;
    if (epoch < current || (epoch === current && seq <= (base.seqs.get(id) ?? node.seq))) continue;
    base.epochs.set(id, epoch);
    base.seqs.set(id, seq);
    moved.push(mark);
  }
  return moved;
}

function metaOf(state: DurableState): Meta {
  const {
    nodes: _nodes,
    savedAt: _savedAt,
    ...meta
  } = state as DurableState & {
    journal?: number;
  };
  delete (meta as { journal?: number }).journal;
  return meta;
}

function after(epoch: number, seq: number, node: DurableNode): boolean {
  const current = node.epoch ?? 0;
  return epoch > current || (epoch === current && seq > node.seq);
}

function withMark(node: DurableNode, epoch: number, seq: number): DurableNode {
  return { ...node, seq, ...(epoch === 0 && node.epoch === undefined ? {} : { epoch }) };
}

function sameButMark(a: DurableNode, b: DurableNode): boolean {
  return (
    a.id === b.id &&
    sameLabels(a.labels, b.labels) &&
    a.version === b.version &&
    a.registeredAt === b.registeredAt &&
    a.state === b.state &&
    a.since === b.since &&
    a.reason === b.reason &&
    a.isolations === b.isolations &&
    a.reinstateAt === b.reinstateAt &&
    a.probationUntil === b.probationUntil &&
    a.escalation === b.escalation &&
    a.licence === b.licence
  );
}

function sameLabels(a: DurableNode['labels'], b: DurableNode['labels']): boolean {
  if (a === b) return true;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => a[key] === b[key]);
}
