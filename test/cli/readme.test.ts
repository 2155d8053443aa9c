import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoBanner } from '../../cli/commands/demo.js';
import { demoCheckpoints, demoCheckpointsInWords } from '../../cli/demo/demoCheckpoints.js';
import { overview } from '../../cli/help.js';
import { commands } from '../../cli/main.js';

/**
 * The README is a newcomer's first map: held to the code here, so it cannot drift from
 * what `qrgate --help` and the demo really do.
 */

const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');

/** The commands the README's command list names: `qrgate cards issue|list ...` names two. */
function readmeCommands(): Set<string> {
  const named = new Set<string>();
  for (const line of readme.split('\n')) {
    const words = /^qrgate ((?:[a-z][a-z0-9-]*(?:\|[a-z][a-z0-9-]*)*)(?: [a-z][a-z0-9-|]*)?)(?:\s|$)/.exec(line)?.[1]?.split(' ');
    if (!words) continue;
    const [first, second] = words as [string, string | undefined];
    named.add(first);
    for (const sub of second?.split('|') ?? []) named.add(`${first} ${sub}`);
  }
  return named;
}

describe('README.md', () => {
  it('names every command `qrgate --help` lists', () => {
    const listed = overview(commands);
    const named = readmeCommands();
    const missing = commands.map((c) => c.words.join(' ')).filter((words) => !named.has(words));
    expect(missing, 'commands in `qrgate --help` that the README command list does not name').toEqual([]);
    for (const command of commands) expect(listed).toContain(command.words.join(' '));
  });

  it('says as many demo checkpoints as the demo runs, as `--help` and the banner do', () => {
    const words = demoCheckpointsInWords();
    const mentions = [...readme.matchAll(/\b(\w+) simulated checkpoints?\b/g)].map((m) => m[0]);
    expect(mentions.length).toBeGreaterThanOrEqual(2);
    expect(new Set(mentions)).toEqual(new Set([words]));
    const demo = commands.find((c) => c.words.join(' ') === 'demo')!;
    expect(demo.summary).toContain(words);
    const banner = demoBanner(
      '/tmp/demo',
      { mqttPort: 1883, httpPort: 8080 } as Parameters<typeof demoBanner>[1],
      demoCheckpoints.map((c, i) => ({ code: String(i).padStart(14, '0'), name: c.name, terminalId: `demo-gate-${i + 1}` })),
      { admin: { username: 'admin', password: 'p' }, guard: { username: 'guard', password: 'p', checkpoint: '0'.repeat(14) }, readOnlyToken: 'qrg_x' } as Parameters<typeof demoBanner>[3],
    );
    expect(banner).toContain(`a central and ${demoCheckpoints.length} simulated checkpoints`);
  });
});
