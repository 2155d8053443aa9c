/** One line of `qrgate doctor`'s table. */
export interface CheckResult {
  readonly check: string;
  readonly status: 'PASS' | 'FAIL' | 'SKIP';
  /** What was seen, for the technician. Never a raw ID number or a secret. */
  readonly detail: string;
}

export const pass = (check: string, detail: string): CheckResult => ({ check, status: 'PASS', detail });
export const fail = (check: string, detail: string): CheckResult => ({ check, status: 'FAIL', detail });
export const skip = (check: string, detail: string): CheckResult => ({ check, status: 'SKIP', detail });

export function anyFailed(results: readonly CheckResult[]): boolean {
  return results.some((result) => result.status === 'FAIL');
}

/** A plain-text table a technician reads on a small screen or over SSH. */
export function formatReport(results: readonly CheckResult[]): string {
  const width = Math.max(5, ...results.map((r) => r.check.length));
  const lines = results.map((r) => `${r.status.padEnd(4)}  ${r.check.padEnd(width)}  ${r.detail}`);
  const failed = results.filter((r) => r.status === 'FAIL').length;
  lines.push('', failed === 0 ? `all ${results.length} checks passed or skipped` : `${failed} of ${results.length} checks FAILED`);
  return `${lines.join('\n')}\n`;
}
