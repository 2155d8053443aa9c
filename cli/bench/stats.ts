/** Nearest-rank percentile of an ascending-sorted sample. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Peak and current resident set of a process, from /proc (Linux). */
export async function processMemoryMb(pid: number): Promise<{ rssMb: number; peakRssMb: number }> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return { rssMb: statusFieldMb(status, 'VmRSS'), peakRssMb: statusFieldMb(status, 'VmHWM') };
}

/** A memory field of /proc/PID/status (given in kB), MB; NaN when absent. */
export function statusFieldMb(status: string, field: 'VmRSS' | 'VmHWM'): number {
  return round(Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) / 1024, 1);
}
