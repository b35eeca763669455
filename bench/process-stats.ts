import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** The CPU time process `pid` has used, user and system, in seconds (Linux: from /proc). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields 14 and 15 (utime, stime), counted after the command name, which may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The resident set of process `pid`, in KiB (Linux: from /proc). */
export async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
}

/**
 * The CPU time this process's main thread has used, in seconds (Linux: from /proc; NaN
 * elsewhere). Unlike the wall clock, it leaves out the time other processes held the core, and
 * unlike `process.cpuUsage`, the thread pool's work (gzip, say).
 */
export function mainThreadCpuSeconds(): number {
  let stat = '';
  try {
    stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  } catch {
    return Number.NaN;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
