import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { installRelaySafety } from '../../../hardware/gpio/relaySafety.js';
import { SimGpio } from '../../../hardware/gpio/simGpio.js';
import { captureLogger } from '../../fakes/captureLogger.js';

const script = fileURLToPath(new URL('../../fakes/relayCrash.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly lines: Record<string, unknown>[];
  readonly stderr: string;
}

/** Runs the crash script to its end (the process exits by itself; the deadline is the test timeout). */
function run(mode: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, mode], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('error', reject);
    child.once('close', (code) => {
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, lines, stderr });
    });
  });
}

const relayLevels = (r: Run): unknown[] => r.lines.filter((l) => l.msg === 'gpio.set' && l.output === 'relay').map((l) => l.value);

describe('installRelaySafety in a real process', () => {
  it('switches the relay off after an uncaught exception, logs the error under err, and exits 1', async () => {
    const result = await run('throw');
    expect(result.code, result.stderr).toBe(1);
    expect(relayLevels(result)).toEqual([1, 0]);
    const fatal = result.lines.find((l) => l.msg === 'process.uncaught-exception');
    expect(fatal).toMatchObject({ level: 60, err: { message: 'boom: a bug in the scan path', type: 'Error' } });
    // The error is logged before the relay line, the relay line before the exit.
    expect(result.lines.indexOf(fatal!)).toBeLessThan(result.lines.findLastIndex((l) => l.msg === 'gpio.set'));
  });

  it('switches the relay off after an unhandled rejection and exits 1', async () => {
    const result = await run('reject');
    expect(result.code, result.stderr).toBe(1);
    expect(relayLevels(result)).toEqual([1, 0]);
    expect(result.lines.find((l) => l.msg === 'process.unhandled-rejection')).toMatchObject({ err: { message: 'boom: a promise nobody awaited' } });
  });

  it('switches the relay off on a plain process.exit', async () => {
    const result = await run('exit');
    expect(result.code, result.stderr).toBe(0);
    expect(relayLevels(result)).toEqual([1, 0]);
  });
});

describe('installRelaySafety in this process', () => {
  it('adds its handlers and removes exactly them on uninstall', () => {
    const counts = () => ['exit', 'uncaughtException', 'unhandledRejection'].map((e) => process.listenerCount(e));
    const before = counts();
    const uninstall = installRelaySafety([], captureLogger().logger);
    expect(counts()).toEqual(before.map((n) => n + 1));
    uninstall();
    expect(counts()).toEqual(before);
  });

  it('forces every relay off and exits 1 through the injected exit when its handler runs', () => {
    const log = captureLogger();
    const gpio = new SimGpio({ logger: log.logger });
    const relays = [gpio.output('relay', 23), gpio.output('green', 17)];
    relays.forEach((r) => r.write(1));
    relays[1]!.close(); // a closed line does not stop the others
    const exit = vi.fn();
    const uninstall = installRelaySafety(relays, log.logger, { exit });
    try {
      // Call our handler directly: emitting the event would also reach the test runner's.
      const handler = process.listeners('uncaughtException').at(-1)!;
      handler(new Error('boom'), 'uncaughtException');
      expect(exit).toHaveBeenCalledWith(1);
      expect(relays[0]!.read()).toBe(0);
      expect(log.messages('process.uncaught-exception')[0]).toMatchObject({ err: { message: 'boom' } });
    } finally {
      uninstall();
    }
  });
});
