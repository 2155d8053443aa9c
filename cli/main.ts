import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from './command.js';
import { HelpRequest, UsageError } from './command.js';
import { demoCheckpointsInWords } from './demo/demoCheckpoints.js';
import { answerNoCommand, commandHelp, overview, type HelpIo } from './help.js';

/**
 * One binary, `qrgate`. Commands load lazily so `qrgate terminal` does not pay for the
 * central's or the benchmarks' modules at start-up.
 */
export interface Entry {
  readonly words: readonly string[];
  readonly summary: string;
  readonly load: () => Promise<{ run: Command }>;
}

export const commands: readonly Entry[] = [
  { words: ['demo'], summary: `[--data-dir DIR] [--rate SCANS/S] [--mqtt-port P] [--http-port P] [--duration-s S] [--json] [--log-format json|pretty]: a central and ${demoCheckpointsInWords()} on this machine, no set-up`, load: () => import('./commands/demo.js') },
  { words: ['terminal'], summary: '--config F [--enroll] [--log-format json|pretty]: run one terminal; --enroll first reads an enrollment QR when the config has no identity yet', load: () => import('./commands/terminal.js') },
  {
    words: ['doctor'],
    summary: '--config F [--yes] [--json] [--scan-timeout S]: self-test of LEDs, buzzer, relay, scanner, central, clock, lists, disk (service stopped)',
    load: () => import('./commands/doctor.js'),
  },
  {
    words: ['config-reference'],
    summary: '[--write FILE]: every terminal config field, type, default and meaning as a markdown table, from the schema (docs/terminal.md)',
    load: () => import('./commands/configReference.js'),
  },
  { words: ['keys', 'generate'], summary: '--out DIR: list authority key pair and ref key', load: () => import('./commands/keys.js') },
  {
    words: ['lists', 'build'],
    summary: '--scope S --list-version N --key DIR --entries CSV --out FILE [--expires-in-days D (default 30)]: a signed list',
    load: () => import('./commands/listsBuild.js'),
  },
  { words: ['lists', 'import'], summary: '--config F FILE: verify a list and install it on a terminal', load: () => import('./commands/listsImport.js') },
  {
    words: ['lists', 'publish'],
    summary: '--central-config F --scope S [--expires-in-days N (default 7)] [--json]: the next signed list version of a scope from the registry, with its delta',
    load: () => import('./commands/listsPublish.js'),
  },
  {
    words: ['members', 'import'],
    summary: '--central-config F FILE.csv [--json]: add or update people (name,phone,address,unit,scope,idNumber,status)',
    load: () => import('./commands/membersImport.js'),
  },
  {
    words: ['members', 'update'],
    summary: '--central-config F --id-number N [--name ..] [--phone ..] [--address ..] [--unit ..] [--scope ..] [--json]: change one person',
    load: () => import('./commands/membersUpdate.js'),
  },
  {
    words: ['members', 'set-status'],
    summary: '--central-config F --id-number N --status allow|deny|check [--json]: the status of one person; check means a gate operator confirms each scan',
    load: () => import('./commands/membersSetStatus.js'),
  },
  { words: ['members', 'remove'], summary: '--central-config F --id-number N [--json]: delete a person and their cards', load: () => import('./commands/membersRemove.js') },
  { words: ['members', 'list'], summary: '--central-config F [--unit U] [--scope S] [--json]: registered people, masked IDs only', load: () => import('./commands/membersList.js') },
  {
    words: ['cards', 'issue'],
    summary: '--central-config F (--id-number N | --unit U | --scope S | --all) [--reissue] [--json]: qrgate cards for members',
    load: () => import('./commands/cardsIssue.js'),
  },
  {
    words: ['cards', 'print'],
    summary: '--central-config F --out FILE.pdf [--unit U | --scope S | --id-number N] [--sheet cr80|a4] [--json]: printable cards',
    load: () => import('./commands/cardsPrint.js'),
  },
  { words: ['cards', 'list'], summary: '--central-config F [--unit U] [--json]: every card issued, live and revoked', load: () => import('./commands/cardsList.js') },
  { words: ['cards', 'revoke'], summary: '--central-config F --number N [--json]: revoke a lost card by its printed number', load: () => import('./commands/cardsRevoke.js') },
  { words: ['central'], summary: '--config F [--log-format json|pretty]: MQTT broker, ingestion and HTTP API', load: () => import('./commands/central.js') },
  {
    words: ['ingest'],
    summary: '--central-config F --broker mqtt://HOST:PORT [--username U] [--client-id ID] [--log-format json|pretty]: store what terminals publish to a third-party broker',
    load: () => import('./commands/ingest.js'),
  },
  {
    words: ['mosquitto-config'],
    summary: '--central-config F [--out DIR] [--central-username U] [--new-central-password] [--json]: password file, ACL file and mosquitto.conf fragment giving each terminal the rights it has here (docs/mosquitto.md)',
    load: () => import('./commands/mosquittoConfig.js'),
  },
  {
    words: ['checkpoints', 'create'],
    summary: '--central-config F --name N --direction in|out|both --confirm auto|manual [--unit U] [--lat DEG --lon DEG] [--branch] [--json]: a new checkpoint code',
    load: () => import('./commands/checkpoints.js'),
  },
  {
    words: ['checkpoints', 'list'],
    summary: '--central-config F [--json]: every checkpoint, retired ones marked',
    load: () => import('./commands/checkpointsList.js'),
  },
  {
    words: ['checkpoints', 'update'],
    summary:
      '--central-config F --code C [--name N] [--unit U] [--direction in|out|both] [--confirm auto|manual] [--lat DEG --lon DEG | --lat none --lon none] [--branch|--no-branch] [--json]: change a checkpoint',
    load: () => import('./commands/checkpointsUpdate.js'),
  },
  {
    words: ['checkpoints', 'retire'],
    summary: '--central-config F --code C [--json]: retire a checkpoint; its terminals are refused and disconnected',
    load: () => import('./commands/checkpointsRetire.js'),
  },
  {
    words: ['terminals', 'add'],
    summary: '--central-config F --checkpoint CODE --url mqtt://HOST:PORT --out FILE [--terminal-id ID] [--lists S1,S2] [--json]: a terminal and its config',
    load: () => import('./commands/terminals.js'),
  },
  {
    words: ['terminals', 'enroll-qr'],
    summary: '--central-config F --checkpoint CODE --url mqtt://HOST:PORT --out FILE.png|.svg [--lists S1,S2] [--ttl S] [--json]: a single-use QR a fresh terminal scans to enroll',
    load: () => import('./commands/terminalsEnrollQr.js'),
  },
  {
    words: ['terminals', 'rotate-secret'],
    summary: '--central-config F --terminal-id T [--config TERMINAL.json] [--json]: a new secret; the old one is refused and disconnected',
    load: () => import('./commands/terminalsRotateSecret.js'),
  },
  {
    words: ['terminals', 'remove'],
    summary: '--central-config F --terminal-id T [--json]: remove a terminal; it is disconnected and refused',
    load: () => import('./commands/terminalsRemove.js'),
  },
  {
    words: ['terminals', 'command'],
    summary:
      '--central-config F (--terminal T | --terminal-id T) open|ping|sync-lists [--lane L] [--reason TEXT] [--ttl S] [--wait | --no-wait] [--json]: send a command; waits for the terminal\'s answer (exit 0 done, 1 ignored, 3 expired)',
    load: () => import('./commands/terminalsCommand.js'),
  },
  {
    words: ['users', 'add'],
    summary: '--central-config F --username U --role admin|manager|guard|inspector [--unit UNIT] [--checkpoint CODE,...] [--password-stdin] [--json]: a console user; a generated password is shown once',
    load: () => import('./commands/usersAdd.js'),
  },
  { words: ['users', 'list'], summary: '--central-config F [--json]: console users with role and scope', load: () => import('./commands/usersList.js') },
  {
    words: ['users', 'set-password'],
    summary: '--central-config F --username U [--password-stdin] [--json]: a new password (generated unless piped); their sessions end',
    load: () => import('./commands/usersSetPassword.js'),
  },
  { words: ['users', 'disable'], summary: '--central-config F --username U [--json]: no more logins; sessions end', load: () => import('./commands/usersDisable.js') },
  { words: ['users', 'remove'], summary: '--central-config F --username U [--json]: delete a console user', load: () => import('./commands/usersRemove.js') },
  {
    words: ['tokens', 'create'],
    summary: '--central-config F --name N --role R [--unit U] [--checkpoint CODE,...] [--read-only] [--expires-days D] [--json]: an API bearer token, shown once',
    load: () => import('./commands/tokensCreate.js'),
  },
  { words: ['tokens', 'list'], summary: '--central-config F [--json]: API tokens by id and name (never the token)', load: () => import('./commands/tokensList.js') },
  { words: ['tokens', 'revoke'], summary: '--central-config F --id ID [--json]: refuse a token from now on', load: () => import('./commands/tokensRevoke.js') },
  {
    words: ['bench', 'e2e'],
    summary: '[--json] [--terminals N] [--events N] [--rate N] [--burst N] [--load-processes N] [--backlog] [--broker URL | --mosquitto] [--no-receipts] [--drain-timeout-ms MS] [--store sqlite|postgres] [--pg-url URL] [--pair [--rounds N]]: terminals -> broker -> store benchmark (--mosquitto: a Mosquitto of its own; behind either the terminals use receipts unless --no-receipts; --pair: our central and that Mosquitto in turn, ratio of the medians; --store postgres: a database of its own on --pg-url, sqlite,postgres with --pair)',
    load: () => import('./commands/benchE2e.js'),
  },
  {
    words: ['bench', 'console'],
    summary: '[--json] [--events N] [--checkpoints N] [--requests N] [--csv-rows N] [--live-rate N] [--live-seconds N] [--live-terminals N]: the operator console over a store of 10,000,000 events',
    load: () => import('./commands/benchConsole.js'),
  },
  {
    words: ['bench', 'store'],
    summary: '[--json] [--store sqlite|postgres] [--events N] [--checkpoints N] [--requests N] [--ingest-rate N] [--retention-seconds N] [--baseline-seconds N] [--url URL]: the central store at size: stats, log pages, retention of a month while inserting',
    load: () => import('./commands/benchStore.js'),
  },
  {
    words: ['bench', 'e2e-terminals'],
    summary: '--spec FILE: (internal) a share of bench e2e\'s simulated terminals, started by it',
    load: () => import('./commands/benchE2eTerminals.js'),
  },
  {
    words: ['bench', 'retained'],
    summary: '[--json] [--redis URL] [--retained N] [--subscribes N]: a terminal\'s login SUBSCRIBE against N retained statuses in a cluster\'s Redis, library scan against our prefix index',
    load: () => import('./commands/benchRetained.js'),
  },
  {
    words: ['bench', 'bulk'],
    summary: '[--json] [--members N] [--rate EVENTS/S] [--terminals N] [--batch N] [--baseline S] [--central-cpu-prof DIR]: publish-to-PUBACK while a members import and the first list publish run beside a live central',
    load: () => import('./commands/benchBulk.js'),
  },
  {
    words: ['bench', 'lists'],
    summary: '[--json] [--members N] [--changes N]: list build, sign, distribution and apply benchmark',
    load: () => import('./commands/benchLists.js'),
  },
  {
    words: ['bench', 'reconnect'],
    summary: '[--json] [--terminals N] [--processes N] [--central-cpu-prof DIR]: a central with N terminals logged in is killed and restarted; time until the fleet is back',
    load: () => import('./commands/benchReconnect.js'),
  },
  {
    words: ['bench', 'reconnect-clients'],
    summary: "--spec FILE: (internal) a share of bench reconnect's terminals, started by it",
    load: () => import('./commands/benchReconnectClients.js'),
  },
  {
    words: ['bench', 'report'],
    summary: '[--runs N] [--only scan,lists,e2e,e2e-mosquitto,reconnect,console,bulk,store] [--quick] [--out FILE|-] [--json]: every benchmark, medians, targets and peer ratios into docs/benchmarks.md',
    load: () => import('./commands/benchReport.js'),
  },
  { words: ['bench', 'scan'], summary: '[--json] [--entries N] [--scans N] [--burst N] [--power-loss-safe]: scan-path benchmark', load: () => import('./commands/benchScan.js') },
];

/** Dispatches `argv` (the words after `qrgate`) to its command; resolves with the exit code. */
export async function main(argv: readonly string[], io: HelpIo = process): Promise<number> {
  if (argv[0] === 'help' && argv.length > 1) return main([...argv.slice(1), '--help'], io);
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout.write(`${overview(commands)}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  const entry = commands.find((c) => c.words.every((word, i) => argv[i] === word));
  if (!entry) return answerNoCommand(argv, commands, io);
  const { run } = await entry.load();
  try {
    return await run({ argv: argv.slice(entry.words.length), stdout: io.stdout, stderr: io.stderr });
  } catch (err) {
    const name = `qrgate ${entry.words.join(' ')}`;
    if (err instanceof HelpRequest) {
      io.stdout.write(`${commandHelp(entry, err)}\n`);
      return 0;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`${name}: ${err.message}\n  ${entry.words.join(' ')} ${entry.summary}\n`);
      return 2;
    }
    // Our own errors carry a `code` and a message written for the person at the keyboard.
    if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string') {
      io.stderr.write(`${name}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/**
 * Run as the program (`node dist/cli/main.js`, or bin/qrgate.js which calls main itself),
 * not when a test imports the command table. Node 20 has no import.meta.main.
 */
function isProgram(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// Commands that keep running (terminal, demo) resolve only once they have stopped.
if (isProgram()) process.exitCode = await main(process.argv.slice(2));
