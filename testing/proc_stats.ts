/**
 * CPU time and memory of a Linux process, read from /proc (proc(5)).
 *
 * @module
 */

/** Clock ticks per second of /proc/PID/stat times (`getconf CLK_TCK`, 100 on Linux). */
const CLOCK_TICKS = 100;

/**
 * CPU time used so far (user + system), in seconds, at 10 ms resolution.
 *
 * @param pid a process id, or `"self"`
 * @param tid a thread id of that process: only that thread's time
 * @throws {Deno.errors.NotFound} when the process is gone
 */
export function cpuSeconds(pid: number | "self", tid?: number): number {
  const path = tid === undefined
    ? `/proc/${pid}/stat`
    : `/proc/${pid}/task/${tid}/stat`;
  const text = Deno.readTextFileSync(path);
  // Fields after the command name, which may hold spaces: state is field 3.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  return (utime + stime) / CLOCK_TICKS;
}

/** Resident memory of a process, in bytes. */
export interface Memory {
  /** Resident set size now (VmRSS). */
  rss: number;
  /** Peak resident set size since the process started (VmHWM). */
  peak: number;
}

/**
 * Reads a process's resident memory from /proc/PID/status.
 *
 * @throws {Deno.errors.NotFound} when the process is gone
 */
export function memory(pid: number | "self"): Memory {
  const text = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (key: string) => {
    const m = text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"));
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

/** The soft limit on open files of this process (`ulimit -n`), or Infinity. */
export function openFileLimit(): number {
  const text = Deno.readTextFileSync("/proc/self/limits");
  const m = text.match(/^Max open files\s+(\S+)/m);
  return m && m[1] !== "unlimited" ? Number(m[1]) : Infinity;
}

/** CPU time of the whole machine so far, all cores, in seconds (/proc/stat). */
export interface MachineCpu {
  /** Time spent running anything. */
  busy: number;
  /** Time in all states, idle included. */
  total: number;
}

/** Reads the machine's CPU time from the first line of /proc/stat. */
export function machineCpu(): MachineCpu {
  const line = Deno.readTextFileSync("/proc/stat").split("\n", 1)[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  // Fields 4 and 5 are idle and iowait.
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
}
