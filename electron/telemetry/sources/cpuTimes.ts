/**
 * All CPUs' cumulative busy and total time, for the `package-cpu-share` attribution (this process's share of
 * the CPU package's energy, see `../attribution.ts`). On Linux from the first line of `/proc/stat`, elsewhere
 * from `os.cpus()`. The power sampler reads it only while a reply is metered with a `cpu-package` source.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { cpus } from 'node:os';

/** All CPUs' cumulative busy and total time, ms (summed over CPUs). */
export interface SystemCpuTimes {
  busyMs: number;
  totalMs: number;
}

/**
 * USER_HZ, the unit of `/proc/stat` CPU times: 100 on every mainstream Linux architecture (kernel
 * `Documentation/filesystems/proc.rst`: "in units of USER_HZ (typically hundredths of a second)";
 * `sysconf(_SC_CLK_TCK)` = 100 on x86 and arm64).
 */
const USER_HZ = 100;

/** Reused for every read: the first line of `/proc/stat` fits in well under 512 bytes. */
const procStatBuffer = Buffer.alloc(512);

/**
 * All CPUs' cumulative busy and total time in ms: on Linux from the first line of `/proc/stat`
 * (busy = total − idle − iowait, in USER_HZ ticks), elsewhere from `os.cpus()` (busy = user + nice + sys
 * + irq). Null when neither can be read. Never throws.
 */
export function defaultSystemCpuTimes(): SystemCpuTimes | null {
  if (process.platform === 'linux') {
    try {
      const fd = openSync('/proc/stat', 'r');
      let n = 0;
      try {
        n = readSync(fd, procStatBuffer, 0, procStatBuffer.length, 0);
      } finally {
        closeSync(fd);
      }
      const line = procStatBuffer.toString('latin1', 0, n).split('\n', 1)[0] ?? '';
      const fields = line.trim().split(/\s+/);
      if (fields[0] === 'cpu' && fields.length >= 5) {
        // user nice system idle iowait irq softirq steal (guest and guest_nice are inside user and nice)
        const v = fields.slice(1, 9).map(Number);
        if (v.every((x) => Number.isFinite(x))) {
          const total = v.reduce((a, b) => a + b, 0);
          const idle = (v[3] ?? 0) + (v[4] ?? 0);
          return { busyMs: ((total - idle) * 1000) / USER_HZ, totalMs: (total * 1000) / USER_HZ };
        }
      }
    } catch {
      // Fall through to os.cpus().
    }
  }
  try {
    let busy = 0;
    let total = 0;
    for (const c of cpus()) {
      const t = c.times;
      busy += t.user + t.nice + t.sys + t.irq;
      total += t.user + t.nice + t.sys + t.irq + t.idle;
    }
    return total > 0 ? { busyMs: busy, totalMs: total } : null;
  } catch {
    return null;
  }
}
