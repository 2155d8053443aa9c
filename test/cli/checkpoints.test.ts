import { describe, expect, it } from 'vitest';
import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import { UsageError, type Command } from '../../cli/command.js';
import { run as checkpointsCreate } from '../../cli/commands/checkpoints.js';
import { run as checkpointsList } from '../../cli/commands/checkpointsList.js';
import { run as checkpointsRetire } from '../../cli/commands/checkpointsRetire.js';
import { run as checkpointsUpdate } from '../../cli/commands/checkpointsUpdate.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { silentLogger } from '../fakes/captureLogger.js';
import { cliContext } from '../helpers/cliContext.js';
import { swapAdjacentDigits } from '../helpers/typos.js';
import { useTempDir } from '../helpers/tempDir.js';

const tempDir = useTempDir('qrgate-cli-checkpoints-');

describe('qrgate checkpoints', () => {
  function site() {
    const centralConfig = writeLocalCentral(tempDir());
    const config = loadCentralConfig(centralConfig);
    const run = async (command: Command, argv: string[]) => {
      const ran = cliContext(['--central-config', centralConfig, ...argv]);
      const code = await command(ran.ctx);
      return { code, out: ran.out(), err: ran.err() };
    };
    /** The usage error a command throws, for its message. */
    const refusal = async (command: Command, argv: string[]): Promise<string> => {
      const error = await run(command, argv).then(
        () => null,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(UsageError);
      return (error as UsageError).message;
    };
    const stored = () => withCentralStore(config, { logger: silentLogger() }, (store) => store.listCheckpoints());
    const create = async (argv: string[]) => {
      const created = await run(checkpointsCreate, ['--name', 'Cổng A', '--direction', 'in', '--confirm', 'auto', ...argv, '--json']);
      expect(created.code).toBe(0);
      return (JSON.parse(created.out) as { code: string }).code;
    };
    return { run, refusal, stored, create };
  }

  describe('create', () => {
    it('keeps unit, position and the branch flag, and says them back', async () => {
      const s = site();
      const human = await s.run(checkpointsCreate, [
        '--name', 'Cổng nhánh Hương Thủy', '--direction', 'both', '--confirm', 'manual', '--unit', 'Công ty May Huế', '--lat', '16.4637', '--lon', '107.5909', '--branch',
      ]);
      expect(human.code).toBe(0);
      expect(human.out).toMatch(/^checkpoint \d{14} created: "Cổng nhánh Hương Thủy", direction both, confirm manual, unit "Công ty May Huế", at 16.4637, 107.5909, branch\n$/);
      expect(await s.stored()).toMatchObject([{ name: 'Cổng nhánh Hương Thủy', unit: 'Công ty May Huế', latitude: 16.4637, longitude: 107.5909, branch: true, retiredAt: null }]);
      await s.create([]);
      expect((await s.stored()).find((c) => c.unit === '')).toMatchObject({ latitude: null, longitude: null, branch: false });
    });

    it('names every bad field, with what was typed, and creates nothing', async () => {
      const s = site();
      const message = await s.refusal(checkpointsCreate, [
        '--name', '  ', '--direction', 'sideways', '--confirm', 'maybe', '--unit', 'x'.repeat(201), '--lat', '91', '--lon', 'east',
      ]);
      expect(message.split('\n')).toEqual([
        'refused, nothing was changed:',
        '  --name: the name must not be empty, got "  "',
        `  --unit: the unit must be at most 200 characters, got "${'x'.repeat(201)}"`,
        '  --direction: must be in | out | both, got "sideways"',
        '  --confirm: must be auto | manual, got "maybe"',
        '  --lat: must be from -90 to 90, got "91"',
        '  --lon: must be a number of degrees from -180 to 180, got "east"',
      ]);
      // A negative value goes as `--lat=-90.5` (node:util parseArgs takes `--lat -90.5` for a missing value, and says so).
      for (const [lat, lon] of [['-90.5', '0'], ['0', '180.01'], ['', '1'], ['1e3', '1'], ['0x10', '1'], ['16,5', '1']] as const) {
        expect(await s.refusal(checkpointsCreate, ['--name', 'A', '--direction', 'in', '--confirm', 'auto', `--lat=${lat}`, `--lon=${lon}`]), `${lat} ${lon}`).toMatch(/--(lat|lon): must be/);
      }
      expect(await s.refusal(checkpointsCreate, ['--name', 'A', '--direction', 'in', '--confirm', 'auto', '--lat', '-1', '--lon', '1'])).toMatch(/use '--lat=-XYZ'/);
      expect(await s.refusal(checkpointsCreate, ['--name', 'A', '--direction', 'in', '--confirm', 'auto', '--lat', '16.4'])).toContain(
        '--lon: latitude and longitude are one position: give both, or clear both',
      );
      expect(await s.refusal(checkpointsCreate, ['--direction', 'in', '--confirm', 'auto'])).toBe('missing --name');
      expect(await s.refusal(checkpointsCreate, ['--name', 'A', '--confirm', 'auto'])).toBe('missing --direction');
      expect(await s.refusal(checkpointsCreate, ['--name', 'A', '--direction', 'in', '--confirm', 'auto', '--no-branch'])).toMatch(/--no-branch is for checkpoints update/);
      expect(await s.stored()).toEqual([]);
    });

    it('accepts the edges of the ranges', async () => {
      const s = site();
      await s.create(['--lat=-90', '--lon', '180']);
      await s.create(['--lat', '90', '--lon=-180.0']);
      expect((await s.stored()).map((c) => [c.latitude, c.longitude]).sort()).toEqual([[-90, 180], [90, -180]].sort());
    });
  });

  describe('list', () => {
    it('prints one line per checkpoint, retired ones marked; --json prints every field', async () => {
      const s = site();
      expect((await s.run(checkpointsList, [])).out).toBe('no checkpoints yet: qrgate checkpoints create\n');
      const a = await s.create(['--unit', 'Khu A', '--lat', '16.5', '--lon', '107.6']);
      const b = await s.create(['--branch']);
      await s.run(checkpointsRetire, ['--code', b]);
      const human = (await s.run(checkpointsList, [])).out.split('\n');
      expect(human).toContain(`${a}  "Cổng A"  direction in, confirm auto, unit "Khu A", at 16.5, 107.6`);
      expect(human.find((line) => line.startsWith(b))).toMatch(/"Cổng A"  direction in, confirm auto, branch, RETIRED \d{4}-\d\d-\d\dT/);
      const json = await s.run(checkpointsList, ['--json']);
      expect(json.out.trim().split('\n')).toHaveLength(1);
      const { checkpoints } = JSON.parse(json.out) as { checkpoints: unknown[] };
      expect(checkpoints).toEqual(
        expect.arrayContaining([
          { code: a, name: 'Cổng A', direction: 'in', confirm: 'auto', unit: 'Khu A', latitude: 16.5, longitude: 107.6, branch: false, createdAt: expect.any(String), retiredAt: null },
          expect.objectContaining({ code: b, branch: true, retiredAt: expect.any(String) }),
        ]),
      );
    });
  });

  describe('update', () => {
    it('changes only the fields given and says which changed', async () => {
      const s = site();
      const code = await s.create(['--unit', 'Khu A', '--lat', '16.5', '--lon', '107.6']);
      const renamed = await s.run(checkpointsUpdate, ['--code', code, '--name', 'Cổng Bắc', '--branch', '--unit', 'Khu A']);
      expect(renamed.out.split('\n')[0]).toBe(`checkpoint ${code} updated: name, branch`);
      expect(renamed.out).toContain("its terminals' configs keep their own copy");
      const json = await s.run(checkpointsUpdate, ['--code', code, '--lat', 'none', '--lon', 'none', '--no-branch', '--confirm', 'manual', '--json']);
      expect(JSON.parse(json.out)).toEqual({
        checkpoint: expect.objectContaining({ code, name: 'Cổng Bắc', unit: 'Khu A', confirm: 'manual', direction: 'in', latitude: null, longitude: null, branch: false }),
        changed: ['confirm', 'latitude', 'longitude', 'branch'],
      });
      expect((await s.run(checkpointsUpdate, ['--code', code, '--name', 'Cổng Bắc'])).out.split('\n')[0]).toBe(`checkpoint ${code} unchanged: it already had these values`);
    });

    it('names every bad field and changes nothing', async () => {
      const s = site();
      const code = await s.create(['--lat', '16.5', '--lon', '107.6']);
      const before = await s.stored();
      const message = await s.refusal(checkpointsUpdate, ['--code', code, '--name', '', '--direction', 'up', '--lat=-91', '--lon', '200']);
      expect(message.split('\n')).toEqual([
        'refused, nothing was changed:',
        '  --name: the name must not be empty, got ""',
        '  --direction: must be in | out | both, got "up"',
        '  --lat: must be from -90 to 90, got "-91"',
        '  --lon: must be from -180 to 180, got "200"',
      ]);
      // Clearing half a position would leave a point on no map.
      expect(await s.refusal(checkpointsUpdate, ['--code', code, '--lat', 'none'])).toContain('--lon: latitude and longitude are one position');
      expect(await s.refusal(checkpointsUpdate, ['--code', code, '--branch', '--no-branch'])).toBe('give --branch or --no-branch, not both');
      expect(await s.refusal(checkpointsUpdate, ['--code', code])).toMatch(/^nothing to change/);
      expect(await s.refusal(checkpointsUpdate, ['--name', 'x'])).toBe('missing --code');
      expect(await s.stored()).toEqual(before);
    });

    it('refuses a mistyped, an unknown and a retired code', async () => {
      const s = site();
      const code = await s.create([]);
      await expect(s.run(checkpointsUpdate, ['--code', swapAdjacentDigits(code), '--name', 'x'])).rejects.toMatchObject({ code: 'check-digit' });
      await expect(s.run(checkpointsUpdate, ['--code', '10000000000008', '--name', 'x'])).rejects.toMatchObject({ code: 'checkpoint-unknown' });
      await s.run(checkpointsRetire, ['--code', code]);
      await expect(s.run(checkpointsUpdate, ['--code', code, '--name', 'x'])).rejects.toMatchObject({ code: 'checkpoint-retired' });
      expect((await s.stored())[0]).toMatchObject({ name: 'Cổng A' });
    });
  });

  describe('retire', () => {
    it('retires once; a second retire and an unknown code are refused', async () => {
      const s = site();
      const code = await s.create([]);
      const retired = await s.run(checkpointsRetire, ['--code', code, '--json']);
      expect(JSON.parse(retired.out)).toEqual({ code, retiredAt: expect.any(String) });
      await expect(s.run(checkpointsRetire, ['--code', code])).rejects.toMatchObject({ code: 'checkpoint-retired' });
      await expect(s.run(checkpointsRetire, ['--code', '10000000000008'])).rejects.toMatchObject({ code: 'checkpoint-unknown' });
      await expect(s.run(checkpointsRetire, ['--code', '1234'])).rejects.toMatchObject({ code: 'length' });
      expect(await s.refusal(checkpointsRetire, [])).toBe('missing --code');
    });
  });
});
