import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseLogFormat, LogFormatError } from '../../protocol/logger.js';
import { useTempDir } from '../helpers/tempDir.js';

const bin = resolve(import.meta.dirname, '../../bin/qrgate.js');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs to the end and resolves on 'close', once every line of stdout and stderr is read. */
function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The process's own environment without a QRGATE_LOG_FORMAT the person running the tests may have set. */
function envWith(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('QRGATE_LOG_FORMAT' in extra)) delete env.QRGATE_LOG_FORMAT;
  return env;
}

const lines = (text: string) => text.split(/\r?\n/).filter((l) => l.trim() !== '');
const isJson = (line: string) => {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
};
// What a person reads: `[08:00:01.234] INFO: demo.stopped`, colours stripped.
const readable = (text: string) => lines(text.replace(/\x1b\[[0-9;]*m/g, ''));

describe('chooseLogFormat', () => {
  it('takes --log-format, then QRGATE_LOG_FORMAT, then pretty at a terminal and JSON elsewhere', () => {
    expect(chooseLogFormat({ isTTY: true })).toBe('pretty');
    expect(chooseLogFormat({ isTTY: false })).toBe('json');
    expect(chooseLogFormat({ env: 'json', isTTY: true })).toBe('json');
    expect(chooseLogFormat({ env: 'pretty', isTTY: false })).toBe('pretty');
    expect(chooseLogFormat({ flag: 'json', env: 'pretty', isTTY: true })).toBe('json');
    expect(chooseLogFormat({ flag: 'pretty', env: 'json', isTTY: false })).toBe('pretty');
    expect(chooseLogFormat({ env: '', isTTY: false })).toBe('json');
  });

  it('refuses a value it does not know, naming where it came from', () => {
    expect(() => chooseLogFormat({ flag: 'xml', isTTY: true })).toThrow(new LogFormatError('--log-format must be json or pretty, got "xml"'));
    expect(() => chooseLogFormat({ env: 'JSON', isTTY: true })).toThrow('QRGATE_LOG_FORMAT must be json or pretty, got "JSON"');
  });
});

describe('qrgate demo log lines (npm start)', () => {
  const tempDir = useTempDir('qrgate-logformat-');
  const demo = (...extra: string[]) => ['demo', '--duration-s', '1', '--data-dir', tempDir(), ...extra];

  it('writes JSON lines when stdout is a pipe', async () => {
    const out = await run(process.execPath, [bin, ...demo()], envWith());
    expect(out.code).toBe(0);
    expect(lines(out.stdout).length).toBeGreaterThan(5);
    expect(lines(out.stdout).every(isJson)).toBe(true);
    expect(lines(out.stdout).map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('demo.stopped');
  });

  it('writes readable lines when asked by QRGATE_LOG_FORMAT or --log-format, and --log-format wins', async () => {
    // Four demos at once (each on its own ports and data folder): one after the other they took ~20 s.
    const asked = [
      [[], { QRGATE_LOG_FORMAT: 'pretty' }],
      [['--log-format', 'pretty'], {}],
      [['--log-format', 'pretty'], { QRGATE_LOG_FORMAT: 'json' }],
    ] as const;
    const [json, ...pretty] = await Promise.all([
      run(process.execPath, [bin, ...demo('--log-format', 'json')], envWith({ QRGATE_LOG_FORMAT: 'pretty' })),
      ...asked.map(([args, env]) => run(process.execPath, [bin, ...demo(...args)], envWith(env))),
    ]);
    for (const out of pretty) {
      expect(out.code).toBe(0);
      expect(readable(out.stdout).some(isJson)).toBe(false);
      expect(readable(out.stdout)).toContainEqual(expect.stringMatching(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: demo\.stopped$/));
    }
    expect(json!.code).toBe(0);
    expect(lines(json!.stdout).every(isJson)).toBe(true);
  });

  it('writes readable lines at a terminal, with no flag and no environment', async () => {
    // script(1) gives the process a pseudo-terminal as stdout, as a person's shell does.
    const command = [process.execPath, bin, ...demo()].map((a) => `'${a}'`).join(' ');
    const out = await run('script', ['-qec', command, '/dev/null'], envWith());
    expect(out.code).toBe(0);
    const seen = readable(out.stdout);
    expect(seen).toContainEqual(expect.stringMatching(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: central\.ready /));
    expect(seen.filter(isJson)).toEqual([]);
  });

  it('refuses an unknown --log-format before starting anything', async () => {
    const out = await run(process.execPath, [bin, ...demo('--log-format', 'xml')], envWith());
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--log-format must be json or pretty, got "xml"');
    expect(out.stdout).toBe('');
  });
});
