/**
 * The demo's checkpoints: the one place their number is set. `qrgate --help`, the demo's
 * banner and the README all say how many there are; test/cli/readme.test.ts holds the
 * README and the help text to this list. No imports: cli/main.ts reads it at start-up.
 */
export const demoCheckpoints = [
  { name: 'Cổng chính — Nhà máy dệt Phú Bài', direction: 'both', confirm: 'auto' },
  { name: 'Cổng kho B — KCN Phong Điền', direction: 'both', confirm: 'auto' },
  { name: 'Chốt kiểm soát — Cầu Trường Tiền', direction: 'both', confirm: 'auto' },
] as const;

const numberWords = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

/** "three simulated checkpoints", as the README and `--help` say it. */
export function demoCheckpointsInWords(): string {
  const n: number = demoCheckpoints.length;
  return `${numberWords[n] ?? String(n)} simulated checkpoint${n === 1 ? '' : 's'}`;
}
