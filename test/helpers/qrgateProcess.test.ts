import { describe, expect, it } from 'vitest';
import { QrgateProcess } from './qrgateProcess.js';

/**
 * A process whose last log line reaches the pipe after it has exited: it hands its stdout and
 * stderr to a detached grandchild that writes only once the process has been reaped (its pid
 * is gone). That makes the race between 'exit' and the last line deterministic: the parent
 * has seen 'exit' before the line exists.
 */
const lastWordsAfterExit = `
  const { spawn } = require('node:child_process');
  const lastWords = \`
    const pid = Number(process.argv[1]);
    // A pid reused within the 10 s would keep it waiting: then it writes anyway.
    const giveUpAt = Date.now() + 10000;
    const gone = () => { try { process.kill(pid, 0); return Date.now() > giveUpAt; } catch { return true; } };
    const wait = setInterval(() => {
      if (!gone()) return;
      clearInterval(wait);
      process.stdout.write(JSON.stringify({ msg: 'last words', level: 50 }) + '\\\\n');
      process.stderr.write('stderr last words\\\\n');
    }, 5);
  \`;
  spawn(process.execPath, ['-e', lastWords, String(process.pid)], { stdio: ['ignore', 'inherit', 'inherit'], detached: true }).unref();
  process.stdout.write(JSON.stringify({ msg: 'first words', level: 30 }) + '\\n');
  process.exitCode = 3;
`;

describe('QrgateProcess', () => {
  it('once `exited` resolves, has read every line the process wrote, even one still in the pipe when it exited', async () => {
    const proc = new QrgateProcess([], { script: ['-e', lastWordsAfterExit] });
    const { code } = await proc.exited;
    expect(code).toBe(3);
    expect(proc.lines.map((line) => line.msg)).toEqual(['first words', 'last words']);
    expect(proc.stderr).toEqual(['stderr last words']);
  });
});
