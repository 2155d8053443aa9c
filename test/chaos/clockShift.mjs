// Preloaded into a terminal by the chaos test (NODE_OPTIONS=--import=…): Date.now follows the
// wall clock plus an offset in ms read from the file named by QRGATE_CLOCK_OFFSET_FILE, read
// again every 50 ms, so the test can jump the terminal's wall clock backwards and forwards
// while it runs, as NTP or a dead RTC battery does on a Pi (docs/terminal.md "Clock").
import { readFileSync } from 'node:fs';

const file = process.env.QRGATE_CLOCK_OFFSET_FILE;
if (file) {
  const realNow = Date.now.bind(Date);
  let offsetMs = 0;
  const read = () => {
    try {
      offsetMs = Number(readFileSync(file, 'utf8')) || 0;
    } catch {
      // no file yet: no offset
    }
  };
  read();
  setInterval(read, 50).unref();
  Date.now = () => realNow() + offsetMs;
}
