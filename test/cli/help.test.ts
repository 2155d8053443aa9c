import { describe, expect, it } from 'vitest';
import { HelpRequest, UsageError, parseOptions, type OptionSpecs } from '../../cli/command.js';
import { commandWords, splitSummary, suggestCommand } from '../../cli/help.js';
import { commands, main, type Entry } from '../../cli/main.js';
import { QrgateProcess } from '../helpers/qrgateProcess.js';

/** Runs the dispatcher in-process with stdout and stderr collected as written. */
async function qrgate(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]) => ({ write: (chunk: string) => into.push(chunk) > 0 }) as unknown as NodeJS.WritableStream;
  const code = await main(argv, { stdout: sink(out), stderr: sink(err) });
  return { code, out: out.join(''), err: err.join('') };
}

/** The options a command really parses: its run, asked for help, hands them over. */
async function parsedOptions(entry: Entry): Promise<OptionSpecs> {
  const { run } = await entry.load();
  const asked = await run({ argv: ['--help'], stdout: process.stdout, stderr: process.stderr }).then(
    () => null,
    (err: unknown) => err,
  );
  expect(asked, `${entry.words.join(' ')} --help`).toBeInstanceOf(HelpRequest);
  return (asked as HelpRequest).options;
}

const flagsIn = (text: string) => [...text.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!);

describe('qrgate COMMAND --help', () => {
  it.each(commands.map((entry) => [entry.words.join(' '), entry] as const))('%s answers --help and -h with its usage and every option', async (_, entry) => {
    const options = await parsedOptions(entry);
    for (const flag of ['--help', '-h']) {
      const { code, out, err } = await qrgate(...entry.words, flag);
      expect(code).toBe(0);
      expect(err).toBe('');
      expect(out).toContain(`usage: qrgate ${entry.words.join(' ')}`);
      expect(out).toContain(splitSummary(entry.summary).description);
      for (const name of Object.keys(options)) expect(out).toMatch(new RegExp(`--${name}\\b`));
    }
  });

  /** Options a command parses only to refuse with a better message than "unknown option". */
  const parsedToRefuse: Record<string, readonly string[]> = { 'checkpoints create': ['no-branch'] };

  it.each(commands.map((entry) => [entry.words.join(' '), entry] as const))('%s: the synopsis in the command table names exactly the options it parses', async (_, entry) => {
    const { synopsis, description } = splitSummary(entry.summary);
    expect(description).not.toBe('');
    const refused = parsedToRefuse[entry.words.join(' ')] ?? [];
    const offered = Object.keys(await parsedOptions(entry)).filter((name) => !refused.includes(name));
    expect(new Set(flagsIn(synopsis))).toEqual(new Set(offered));
  });

  it('keeps the exceptions honest: those options are refused', async () => {
    for (const [words, names] of Object.entries(parsedToRefuse)) {
      for (const name of names) {
        const { code, err } = await qrgate(...words.split(' '), `--${name}`);
        expect(code, `${words} --${name}`).toBe(2);
        expect(err).toContain(`--${name}`);
      }
    }
  });

  it('answers help before any other check, and `qrgate help WORDS` alike', async () => {
    // --central-config missing and a bogus option: help still wins, nothing is opened.
    const asked = await qrgate('members', 'import', '--bogus', '-h');
    expect(asked.code).toBe(0);
    expect(asked.out).toContain('--central-config <value>');
    expect(await qrgate('help', 'central')).toMatchObject({ code: 0, out: expect.stringContaining('-c, --config <value>') as unknown });
  });

  it('shows defaults and short names from the option declarations', async () => {
    const { out } = await qrgate('cards', 'print', '--help');
    expect(out).toMatch(/--sheet <value> +default: cr80/);
    expect((await qrgate('doctor', '--help')).out).toContain('-y, --yes');
  });
});

describe('qrgate and its groups', () => {
  it('lists every command for --help (exit 0) and alone (exit 2)', async () => {
    const asked = await qrgate('--help');
    expect(asked.code).toBe(0);
    for (const entry of commands) expect(asked.out).toContain(entry.words.join(' '));
    expect((await qrgate()).code).toBe(2);
  });

  it('lists a group\'s sub-commands with their summaries: exit 0 for --help, 2 alone', async () => {
    const groups = new Set(commands.filter((c) => c.words.length > 1).map((c) => c.words[0]!));
    expect(groups.size).toBeGreaterThan(3);
    for (const group of groups) {
      const asked = await qrgate(group, '--help');
      expect(asked.code, group).toBe(0);
      for (const entry of commands.filter((c) => c.words[0] === group)) {
        expect(asked.out).toMatch(new RegExp(`^  ${entry.words[1]!} +${escape(splitSummary(entry.summary).description)}$`, 'm'));
      }
      const alone = await qrgate(group);
      expect(alone.code, group).toBe(2);
      expect(alone.out).toBe(asked.out);
    }
  });
});

describe('did you mean', () => {
  it('suggests the nearest command for a typo', async () => {
    expect(await qrgate('memebrs', 'import', '--central-config', 'x')).toEqual({
      code: 2,
      out: '',
      err: 'qrgate: unknown command "memebrs import"; did you mean "members import"?\n',
    });
    expect((await qrgate('members', 'imprt')).err).toContain('did you mean "members import"?');
    expect((await qrgate('centrl')).err).toContain('did you mean "central"?');
    expect((await qrgate('membrs')).err).toContain('did you mean "members"?');
  });

  it('lists the commands when nothing is near', async () => {
    const { code, err } = await qrgate('frobnicate');
    expect(code).toBe(2);
    expect(err).not.toContain('did you mean');
    expect(err).toContain('usage: qrgate <command>');
    const inGroup = await qrgate('members', 'frobnicate');
    expect(inGroup.err).toContain('usage: qrgate members <command>');
  });

  it('compares each command with as many words as it has', () => {
    expect(suggestCommand(['terminals', 'ad'], commands)).toBe('terminals add');
    expect(suggestCommand(['termnal'], commands)).toBe('terminal');
    expect(suggestCommand(['terminls', 'add'], commands)).toBe('terminals add');
    expect(suggestCommand(['terminls', 'ad'], [{ words: ['terminal'], summary: '' }, { words: ['terminals', 'add'], summary: '' }])).toBe('terminals add');
    expect(suggestCommand(['terminals', 'frobnicate'], commands)).toBeUndefined();
    expect(suggestCommand(['checkpoints', 'retier', 'now'], commands)).toBe('checkpoints retire');
    expect(suggestCommand([], commands)).toBeUndefined();
    expect(commandWords(['lists', 'build', '--scope', 's'])).toEqual(['lists', 'build']);
  });

  it('suggests the nearest option of the command, exit 2', async () => {
    const { code, err } = await qrgate('checkpoints', 'create', '--directon', 'in');
    expect(code).toBe(2);
    expect(err).toMatch(/^qrgate checkpoints create: unknown option --directon; did you mean --direction\?\n/);
  });

  it('names an unknown option without a guess when none is near, and keeps other parse errors', () => {
    const options = { 'central-config': { type: 'string' }, json: { type: 'boolean' } } as const;
    const refusal = (argv: string[]) => {
      try {
        parseOptions(argv, options);
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refusal(['--centrl-config=x'])).toBe('unknown option --centrl-config; did you mean --central-config?');
    expect(refusal(['--colour', 'red'])).toBe('unknown option --colour');
    expect(refusal(['-x'])).toBe('unknown option -x');
    expect(refusal(['--central-config'])).toContain('argument missing');
  });

  it('takes --help after `--` as a word, not a request', () => {
    expect(() => parseOptions(['--', '--help'], {}, true)).not.toThrow();
  });
});

describe('the qrgate binary', () => {
  it('prints help on stdout and exits 0', async () => {
    const proc = new QrgateProcess(['members', 'import', '--help']);
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.lines.map((line) => String(line.text))).toContain('usage: qrgate members import --central-config F FILE.csv [--json]');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
