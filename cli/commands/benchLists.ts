import { runListsBench } from '../bench/listsBench.js';
import { countOption as count, parseOptions, UsageError, type Command } from '../command.js';


/** `qrgate bench lists`: registry import, publish, MQTT distribution and terminal apply at province scale. */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    json: { type: 'boolean' },
    members: { type: 'string' },
    changes: { type: 'string' },
  });
  const members = count(values.members, 'members', 1_000_000);
  const changes = count(values.changes, 'changes', 10_000);
  if (changes > members) throw new UsageError('--changes cannot exceed --members');
  const result = await runListsBench({ members, changes, log: (line) => ctx.stderr.write(`bench lists: ${line}\n`) });
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    for (const [key, value] of Object.entries(result)) ctx.stdout.write(`${key.padEnd(26)} ${value}\n`);
  }
  return 0;
};
