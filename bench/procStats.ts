import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Per-process CPU time and memory from Linux's /proc, read from outside the process so the
 * measurement costs the measured server nothing. Elsewhere (no /proc) the figures are null.
 */

/** utime + stime in clock ticks, from the text of /proc/<pid>/stat. */
export function cpuTicksOfStat(stat: string): number {
  // Field 2 (comm) is in parentheses and may itself contain spaces and ')': fields are counted
  // from the LAST ')'. After it, field 3 (state) is index 0, so utime (14) and stime (15) are 11, 12.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat line: ${stat.slice(0, 80)}`);
  return utime + stime;
}

/** A `VmHWM:`-style line of /proc/<pid>/status, in MB (the kernel reports kB); null when absent. */
export function statusFieldMb(status: string, field: 'VmHWM' | 'VmRSS'): number | null {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
  return match?.[1] === undefined ? null : Number(match[1]) / 1024;
}

let ticksPerSecond: number | undefined;

/** USER_HZ: 100 on every mainstream Linux, but asked rather than assumed. */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU time (user + system) the process has used so far, in ms; null without /proc. */
export function cpuMs(pid: number): number | null {
  try {
    return (cpuTicksOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / clockTicks();
  } catch {
    return null;
  }
}

/** Peak (VmHWM) or current (VmRSS) resident set size in MB; null without /proc. */
export function memoryMb(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    return statusFieldMb(readFileSync(`/proc/${pid}/status`, 'utf8'), field);
  } catch {
    return null;
  }
}
