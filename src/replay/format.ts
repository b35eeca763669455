import type { Heartbeat, NodeRegistration } from '../telemetry/index.js';

/**
 * The trace format (docs/replay.md). A trace is a directory of segments `trace-<n>.ndjson.gz`,
 * numbered from 1; each segment is one or more gzip members. Version 1: every member is JSON
 * lines, the first the header, every other an entry, an array whose second element says what it
 * is. Version 2 (written now): the header (and carried fleet) is such a member, and each batch
 * after it is one binary member of columns (src/replay/batch-codec.ts).
 */
export const traceFormat = 'wyneos-trace';
export const traceVersion = 2;
/** The versions this release reads. */
export const readableTraceVersions: readonly number[] = [1, 2];

/** The first line of every segment: enough to replay it without the others. */
export interface TraceHeader {
  readonly format: typeof traceFormat;
  readonly version: number;
  /** The segment's number, from 1; a missing number is a segment dropped for space. */
  readonly segment: number;
  /** The recording supervisor's tick and heartbeat timeout, which replay runs with. */
  readonly tickMs: number;
  readonly heartbeatTimeoutMs: number;
}

/** An operator command, as the supervisor accepted it. */
export type OperatorEntry =
  | readonly [
      at: number,
      kind: 'o',
      command: 'isolate' | 'reinstate',
      nodeId: string,
      reason: string,
    ]
  | readonly [at: number, kind: 'o', command: 'protect' | 'pin', nodeId: string, on: boolean]
  | readonly [at: number, kind: 'o', command: 'exempt', nodeId: string, request: unknown];

/**
 * One accepted input with its receive time on the supervisor's clock (ms). `r`: a registration;
 * `k`: a node registered before this segment began (carried over, so a segment whose
 * predecessors were dropped still knows its fleet); `h`: a heartbeat; `d`: a deregistration;
 * `o`: an operator command.
 */
export type TraceEntry =
  | readonly [at: number, kind: 'r' | 'k', registration: NodeRegistration]
  | readonly [at: number, kind: 'h', heartbeat: Heartbeat]
  | readonly [at: number, kind: 'd', nodeId: string]
  | OperatorEntry;

/** The file name of segment `n`: sorted by name, segments are in order. */
export function segmentName(n: number): string {
  return `trace-${String(n).padStart(6, '0')}.ndjson.gz`;
}

/** The segment number of a file name, or undefined for a file that is not a segment. */
export function segmentNumber(name: string): number | undefined {
  const match = /^trace-(\d{6,})\.ndjson\.gz$/.exec(name);
  return match === null ? undefined : Number(match[1]);
}
