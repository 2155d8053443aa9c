import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/command.js';
import { run as checkpointsCreate } from '../../cli/commands/checkpoints.js';
import { run as enrollQr } from '../../cli/commands/terminalsEnrollQr.js';
import { generateCheckpointCode } from '../../protocol/checkpointCode.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { cliContext } from '../helpers/cliContext.js';
import { swapAdjacentDigits } from '../helpers/typos.js';
import { QrgateProcess } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';

const tempDir = useTempDir('qrgate-cli-enroll-');

describe('qrgate terminals enroll-qr', () => {
  async function site() {
    const dir = tempDir();
    const centralConfig = writeLocalCentral(dir);
    const run = async (argv: string[]) => {
      const ran = cliContext(['--central-config', centralConfig, ...argv]);
      const code = await enrollQr(ran.ctx);
      return { code, out: ran.out() };
    };
    const created = cliContext(['--central-config', centralConfig, '--name', 'Cổng A', '--direction', 'in', '--confirm', 'auto', '--json']);
    await checkpointsCreate(created.ctx);
    const { code } = JSON.parse(created.out()) as { code: string };
    const tokens = () => {
      const db = new Database(join(dir, 'central-data', 'central.db'), { readonly: true });
      const n = (db.prepare('SELECT count(*) AS n FROM enrollment_tokens').get() as { n: number }).n;
      db.close();
      return n;
    };
    return { dir, code, run, tokens };
  }

  it('writes the image only (mode 0600) and tells the technician what to do; the QR text is never printed without --json', async () => {
    const s = await site();
    const out = join(s.dir, 'qr.png');
    const { code, out: printed } = await s.run(['--checkpoint', s.code, '--url', 'mqtt://10.0.0.5:1883', '--out', out]);
    expect(code).toBe(0);
    expect(printed).toContain(`enrollment QR for checkpoint ${s.code}: ${out}`);
    expect(printed).toContain('qrgate terminal --enroll --config hw.json');
    expect(printed).not.toContain('QGE1.');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(s.tokens()).toBe(1);
  });

  it('refuses bad input by name and leaves neither an image nor a token behind', async () => {
    const s = await site();
    const out = (name: string) => join(s.dir, name);
    const cases: Array<[string[], object]> = [
      [['--checkpoint', generateCheckpointCode(), '--url', 'mqtt://h:1', '--out', out('a.png')], { code: 'checkpoint-unknown' }],
      [['--checkpoint', swapAdjacentDigits(s.code), '--url', 'mqtt://h:1', '--out', out('b.png')], { code: 'check-digit' }],
      [['--checkpoint', s.code, '--url', 'http://h:1', '--out', out('c.png')], { code: 'invalid-config', message: expect.stringContaining('--url http://h:1') }],
      [['--checkpoint', s.code, '--url', 'mqtt://h:1', '--out', out('d.jpg')], { code: 'invalid-config', message: expect.stringContaining('.png or .svg') }],
      [['--checkpoint', s.code, '--url', 'mqtt://h:1', '--out', out('e.png'), '--lists', 'a/#'], { code: 'invalid-config', message: expect.stringContaining('--lists "a/#"') }],
      [['--checkpoint', s.code, '--url', 'mqtt://h:1', '--out', out('f.png'), '--ttl', '9999999'], { code: 'invalid-config', message: expect.stringContaining('--ttl') }],
    ];
    for (const [argv, error] of cases) await expect(s.run(argv), argv.join(' ')).rejects.toMatchObject(error);
    await expect(s.run(['--checkpoint', s.code, '--url', 'mqtt://h:1', '--out', out('g.png'), '--ttl', '0'])).rejects.toBeInstanceOf(UsageError);
    expect(readdirSync(s.dir).filter((f) => /\.(png|jpg|svg)$/.test(f))).toEqual([]);
    expect(s.tokens()).toBe(0);
  });
});

describe('qrgate terminal --enroll with a bad hardware config', () => {
  it('exits non-zero naming every bad field, before touching any hardware', async () => {
    const dir = tempDir();
    const file = join(dir, 'hw.json');
    writeFileSync(file, JSON.stringify({ dataDir: '', lanes: [{ name: 'in/1', direction: 'up', scanner: { type: 'serial' }, gpio: { type: 'sim', outputs: {} } }], central: {} }));
    const proc = new QrgateProcess(['terminal', '--enroll', '--config', file]);
    const { code } = await proc.exited;
    expect(code).toBe(1);
    const stderr = proc.stderr.join('\n');
    for (const field of ['dataDir', 'lanes[0].name', 'lanes[0].direction', 'lanes[0].scanner', '(top level)']) expect(stderr).toContain(field);
    expect(proc.linesWith('enroll.waiting')).toEqual([]);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });
});

