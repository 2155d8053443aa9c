import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { run as keys } from '../../cli/commands/keys.js';
import { run as listsBuild } from '../../cli/commands/listsBuild.js';
import { UsageError } from '../../cli/command.js';
import { loadPublicKey } from '../../protocol/keys.js';
import { verifySignedList } from '../../protocol/lists/index.js';
import { cliContext } from '../helpers/cliContext.js';
import { useTempDir } from '../helpers/tempDir.js';

const scratchDir = useTempDir('qrgate-cli-');


describe('qrgate keys generate', () => {
  it('prints the three paths and no key material', async () => {
    const dir = join(scratchDir(), 'keys');
    const c = cliContext(['generate', '--out', dir]);
    expect(await keys(c.ctx)).toBe(0);
    const printed = c.out();
    for (const name of ['authority.key', 'authority.pub', 'ref.key']) expect(printed).toContain(join(dir, name));
    expect(printed).not.toContain('BEGIN');
    expect(printed).not.toContain(readFileSync(join(dir, 'ref.key')).toString('hex'));
    expect(printed).not.toContain(readFileSync(join(dir, 'ref.key')).toString('base64'));
  });

  it('works without the sub-command word too, and refuses to overwrite', async () => {
    const dir = scratchDir();
    expect(await keys(cliContext(['--out', dir]).ctx)).toBe(0);
    const again = cliContext(['--out', dir]);
    expect(await keys(again.ctx)).toBe(1);
    expect(again.err()).toContain('already exists: refusing to overwrite a key');
  });

  it('throws usage errors for missing or unknown arguments', async () => {
    await expect(keys(cliContext(['generate']).ctx)).rejects.toThrow(UsageError);
    await expect(keys(cliContext(['rotate', '--out', 'x']).ctx)).rejects.toThrow(UsageError);
    await expect(keys(cliContext(['--out', 'x', '--force']).ctx)).rejects.toThrow(UsageError);
  });
});

describe('qrgate lists build', () => {
  function setup() {
    const dir = scratchDir();
    const keyDir = join(dir, 'keys');
    const c = cliContext(['--out', keyDir]);
    return { dir, keyDir, generate: () => keys(c.ctx) };
  }

  it('builds a list and prints a one-line summary', async () => {
    const s = setup();
    expect(await s.generate()).toBe(0);
    const csv = join(s.dir, 'entries.csv');
    writeFileSync(csv, 'namespace,id,status\ncitizen,046199001234,allow\ncitizen,191234567,deny\n');
    const out = join(s.dir, 'list.qgl');
    const c = cliContext(['--scope', 'site-a', '--list-version', '5', '--key', s.keyDir, '--entries', csv, '--out', out, '--expires-in-days', '7']);
    expect(await listsBuild(c.ctx)).toBe(0);
    const line = c.out();
    expect(line.split('\n').filter(Boolean)).toHaveLength(1);
    expect(line).toMatch(/scope site-a, version 5, 2 entries, \d+ bytes, .* -> /);
    expect(line).toContain(out);
    const list = verifySignedList(readFileSync(out), { trustedKeys: [loadPublicKey(join(s.keyDir, 'authority.pub'))], scope: 'site-a' });
    expect(Date.parse(list.header.expiresAt) - Date.parse(list.header.issuedAt)).toBe(7 * 86_400_000);
  });

  it('reports a bad row with its line and exits 1', async () => {
    const s = setup();
    await s.generate();
    const csv = join(s.dir, 'entries.csv');
    writeFileSync(csv, 'namespace,id,status\ncitizen,046199001234,allow\ncitizen,0461990012,allow\n');
    const c = cliContext(['--scope', 'site-a', '--list-version', '5', '--key', s.keyDir, '--entries', csv, '--out', join(s.dir, 'list.qgl')]);
    expect(await listsBuild(c.ctx)).toBe(1);
    expect(c.err()).toContain('line 3: citizen id: ID number has 10 digits');
    expect(c.err()).toContain('nothing written');
    expect(c.err()).not.toContain('0461990012');
  });

  it('throws usage errors for missing or malformed options', async () => {
    await expect(listsBuild(cliContext(['--scope', 'site-a']).ctx)).rejects.toThrow('missing --list-version');
    const bad = ['--scope', 'a', '--list-version', 'five', '--key', 'k', '--entries', 'e', '--out', 'o'];
    await expect(listsBuild(cliContext(bad).ctx)).rejects.toThrow(UsageError);
    const badDays = ['--scope', 'a', '--list-version', '1', '--key', 'k', '--entries', 'e', '--out', 'o', '--expires-in-days', 'soon'];
    await expect(listsBuild(cliContext(badDays).ctx)).rejects.toThrow(UsageError);
  });
});
