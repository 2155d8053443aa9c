import { asksForHelp, type HelpRequest, type OptionSpecs } from './command.js';
import { nearest, nearestBy } from './nearest.js';

/**
 * What `qrgate`, `qrgate GROUP` and `qrgate COMMAND --help` print. The command table in
 * cli/main.ts is the one place a command's synopsis and summary are written; the options
 * come from the command's own parseOptions call (HelpRequest), so neither can drift from
 * what the command accepts without a test noticing (test/cli/help.test.ts).
 */
export interface CommandInfo {
  readonly words: readonly string[];
  /** `SYNOPSIS: what it does`, or only what it does for a command without options. */
  readonly summary: string;
}

/** A summary's synopsis (the options, from its first `: `) and description. */
export function splitSummary(summary: string): { synopsis: string; description: string } {
  const colon = summary.indexOf(': ');
  // Only a summary that starts like an option list has a synopsis; demo's is all prose.
  if (colon === -1 || !/^[-[(]/.test(summary)) return { synopsis: '', description: summary };
  return { synopsis: summary.slice(0, colon), description: summary.slice(colon + 2) };
}

function table(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`.trimEnd());
}

export function overview(commands: readonly CommandInfo[]): string {
  return [
    'usage: qrgate <command> [options]',
    '',
    ...table(commands.map((c) => [c.words.join(' '), c.summary])),
    '',
    '`qrgate <command> --help` shows one command\'s options.',
    'Logs: readable lines at a terminal, JSON lines when stdout is a pipe or a file; --log-format json|pretty or QRGATE_LOG_FORMAT chooses.',
  ].join('\n');
}

/** The sub-commands of a group word such as `members`, or undefined when `word` is no group. */
export function groupMembers(word: string | undefined, commands: readonly CommandInfo[]): CommandInfo[] | undefined {
  const members = commands.filter((c) => c.words.length > 1 && c.words[0] === word);
  return members.length > 0 ? members : undefined;
}

export function groupHelp(group: string, members: readonly CommandInfo[]): string {
  return [
    `usage: qrgate ${group} <command> [options]`,
    '',
    ...table(members.map((c) => [c.words.slice(1).join(' '), splitSummary(c.summary).description])),
    '',
    `\`qrgate ${group} <command> --help\` shows one command's options.`,
  ].join('\n');
}

function optionRows(options: OptionSpecs): Array<readonly [string, string]> {
  const rows = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short === undefined ? '    ' : `-${spec.short}, `}--${name}${spec.type === 'string' ? ' <value>' : ''}`;
    const notes = [spec.multiple ? 'repeatable' : '', spec.default === undefined || spec.default === false ? '' : `default: ${String(spec.default)}`];
    return [flag, notes.filter(Boolean).join('; ')] as const;
  });
  return [...rows, ['-h, --help', 'this help']];
}

export function commandHelp(command: CommandInfo, request: Pick<HelpRequest, 'options'>): string {
  const { synopsis, description } = splitSummary(command.summary);
  return [
    `usage: qrgate ${command.words.join(' ')}${synopsis === '' ? '' : ` ${synopsis}`}`,
    '',
    description,
    '',
    'options:',
    ...table(optionRows(request.options)),
  ].join('\n');
}

/** The words typed before the first option: what the person meant as a command. */
export function commandWords(argv: readonly string[]): string[] {
  const first = argv.findIndex((arg) => arg.startsWith('-'));
  return [...(first === -1 ? argv : argv.slice(0, first))];
}

/**
 * The command nearest to what was typed, as its words joined, or undefined. Each command
 * is compared with as many typed words as it has; a group word alone (`memebrs`) only
 * when that is all that was typed, so `members imprt` finds `members import`, not
 * `members`. A group word typed right keeps the guess inside its group: `terminals ad`
 * is `terminals add`, never `terminal`.
 */
export function suggestCommand(typed: readonly string[], commands: readonly CommandInfo[]): string | undefined {
  if (typed.length === 1) {
    const groups = new Set(commands.filter((c) => c.words.length > 1).map((c) => c.words[0]!));
    return nearest(typed[0]!, [...commands.filter((c) => c.words.length === 1).map((c) => c.words[0]!), ...groups]);
  }
  // Longer commands first: on a tie, the one that explains more of what was typed wins.
  const candidates = (groupMembers(typed[0], commands) ?? commands)
    .map((c) => c.words.join(' '))
    .sort((a, b) => b.split(' ').length - a.split(' ').length);
  return nearestBy(candidates, (name) => {
    const count = name.split(' ').length;
    return typed.length < count ? undefined : typed.slice(0, count).join(' ');
  });
}

export interface HelpIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/**
 * Answers command words that name no command: a group word alone lists its sub-commands
 * (exit 0 when help was asked for, 2 otherwise); anything else is refused with the
 * nearest command, or the list when nothing is near. Exit code 2, like every usage error.
 */
export function answerNoCommand(argv: readonly string[], commands: readonly CommandInfo[], io: HelpIo): number {
  const typed = commandWords(argv);
  const members = groupMembers(typed[0], commands);
  if (members && typed.length === 1) {
    io.stdout.write(`${groupHelp(typed[0]!, members)}\n`);
    return asksForHelp(argv) ? 0 : 2;
  }
  const said = `qrgate: unknown command "${typed.length > 0 ? typed.join(' ') : argv.join(' ')}"`;
  const guess = suggestCommand(typed, commands);
  if (guess !== undefined) {
    io.stderr.write(`${said}; did you mean "${guess}"?\n`);
    return 2;
  }
  io.stderr.write(`${said}\n\n${members ? groupHelp(typed[0]!, members) : overview(commands)}\n`);
  return 2;
}
