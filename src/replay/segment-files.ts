import { type FileHandle, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { segmentName, segmentNumber } from './format.js';

interface Segment {
  readonly n: number;
  bytes: number;
}

/**
 * @internal The segments of a trace directory as the recorder writes them: found on disk once,
 * the newest appended to through one open handle (a write a batch, not an open, write and close),
 * and the oldest unlinked once the whole is over its bound.
 */
export class SegmentFiles {
  private segments: Segment[] | undefined;
  private handle: FileHandle | undefined;
  private handleOf = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly segmentBytes: number,
  ) {}

  /**
   * The segment the next batch goes to: the newest, or a new one (`opened`) when there is none,
   * when `fresh` asks for one, or when the newest is full.
   */
  async next(fresh: boolean): Promise<{ n: number; opened: boolean }> {
    const segments = await this.found();
    const newest = segments[segments.length - 1];
    if (newest !== undefined && !fresh && newest.bytes < this.segmentBytes) {
      return { n: newest.n, opened: false };
    }
    const n = (newest?.n ?? 0) + 1;
    segments.push({ n, bytes: 0 });
    return { n, opened: true };
  }

  /** Appends `bytes` to the newest segment, then drops the oldest while over the bound. */
  async append(bytes: Buffer): Promise<void> {
    const segments = await this.found();
    const newest = segments[segments.length - 1] as Segment;
    if (this.handleOf !== newest.n) {
      await this.close();
      this.handle = await open(join(this.dir, segmentName(newest.n)), 'a');
      this.handleOf = newest.n;
    }
    const handle = this.handle as FileHandle;
    let done = 0;
    while (done < bytes.length) done += (await handle.write(bytes, done)).bytesWritten;
    newest.bytes += bytes.length;
    await this.dropOldest(segments);
  }

  /** Closes the open segment, if any; a later append opens it again. */
  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.handleOf = 0;
    await handle?.close();
  }

  private async found(): Promise<Segment[]> {
    if (this.segments !== undefined) return this.segments;
    await mkdir(this.dir, { recursive: true });
    const found: Segment[] = [];
    for (const name of await readdir(this.dir)) {
      const n = segmentNumber(name);
      if (n !== undefined) found.push({ n, bytes: (await stat(join(this.dir, name))).size });
    }
    found.sort((a, b) => a.n - b.n);
    this.segments = found;
    return found;
  }

  // Never the newest: it is the one being written.
  private async dropOldest(segments: Segment[]): Promise<void> {
    let total = 0;
    for (const s of segments) total += s.bytes;
    while (total > this.maxBytes && segments.length > 1) {
      const oldest = segments.shift() as Segment;
      total -= oldest.bytes;
      await unlink(join(this.dir, segmentName(oldest.n)));
    }
  }
}
