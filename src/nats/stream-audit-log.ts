import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { StorageError } from '../errors.js';
import { thrownMessage } from '../show.js';
import { type AuditLog, type AuditRecord, newAuditRecord } from '../storage/index.js';
import { ensureStream } from './fleet-setup.js';
import { auditStream, subjects } from './subjects.js';

interface Pending {
  readonly seq: number;
  readonly line: string;
}

/**
 * The audit trail in a JetStream stream: each supervisor appends to its own subject
 * (`wyneos.audit.<supervisor>`), and the stream holds the whole fleet's trail. `append` buffers,
 * `flush` publishes what is buffered and resolves once JetStream has acknowledged every record
 * (stored, and replicated on a cluster). Each record is published with a message id naming
 * its writer and seq, so a record published again after a lost acknowledgement is dropped by
 * the stream's duplicate window rather than stored twice. A failed flush keeps its records,
 * and the next flush publishes them first, in order.
 */
export class StreamAuditLog implements AuditLog {
  private buffer: Pending[] = [];
  private unacknowledged: Pending[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly writer: string,
    private seq: number,
  ) {}

  /** Opens (creating if needed) the audit stream; `seq` continues from this writer's last record. */
  static async open(
    js: JetStreamClient,
    jsm: JetStreamManager,
    writer: string,
    replicas = 1,
  ): Promise<StreamAuditLog> {
    await ensureStream(
      jsm,
      { name: auditStream, subjects: [subjects.allAudit], num_replicas: replicas },
      'the audit stream',
    );
    const last = await jsm.streams
      .getMessage(auditStream, { last_by_subj: subjects.audit(writer) })
      .catch(() => null);
    const seq = last === null ? 0 : (last.json<AuditRecord>().seq ?? 0);
    return new StreamAuditLog(js, jsm, writer, seq);
  }

  append(record: Omit<AuditRecord, 'v' | 'seq'>): AuditRecord {
    if (this.closed)
      throw new StorageError(auditStream, 'Cannot append to the audit log: it is closed');
    const { record: full, line } = newAuditRecord(record, this.seq + 1);
    this.buffer.push({ seq: full.seq, line });
    this.seq = full.seq;
    return full;
  }

  flush(): Promise<void> {
    const batch = this.buffer;
    this.buffer = [];
    const run = () => this.publish(batch);
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }

  /** The whole fleet's trail, in the order the stream stored it. */
  async read(): Promise<AuditRecord[]> {
    const info = await this.jsm.streams.info(auditStream);
    const records: AuditRecord[] = [];
    if (info.state.messages === 0) return records;
    const consumer = await this.js.consumers.get(auditStream, {
      deliver_policy: DeliverPolicy.All,
    });
    const last = info.state.last_seq;
    const messages = await consumer.consume();
    for await (const message of messages) {
      records.push(message.json<AuditRecord>());
      if (message.seq >= last) break;
    }
    await messages.close();
    return records;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const flushed = this.flush();
    this.closed = true;
    await flushed;
  }

  private async publish(batch: Pending[]): Promise<void> {
    const all = [...this.unacknowledged, ...batch];
    this.unacknowledged = [];
    // Published together, acknowledged together: one connection keeps their order.
    const acks = all.map((record) =>
      this.js.publish(subjects.audit(this.writer), record.line, {
        msgID: `${this.writer}:${record.seq}`,
      }),
    );
    const results = await Promise.allSettled(acks);
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed === -1) return;
    // From the first failure on, everything is published again next time (the stream drops
    // the ones it had already stored by their message id).
    this.unacknowledged = all.slice(failed);
    const reason = (results[failed] as PromiseRejectedResult).reason;
    throw new StorageError(
      auditStream,
      `Publishing the audit log failed: ${thrownMessage(reason)}`,
      {
        cause: reason,
      },
    );
  }
}
