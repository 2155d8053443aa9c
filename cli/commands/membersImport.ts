import { createReadStream } from 'node:fs';
import { recordCliAudit } from '../../broker/access/audit.js';
import { loadCentralConfig } from '../../broker/config.js';
import { describeProblem } from '../../broker/registry/memberRow.js';
import { importMembers, MembersImportError, type ImportProgress } from '../../broker/registry/membersImport.js';
import { registryRefHasher, withRegistry } from '../../broker/registry/registryDb.js';
import { membersImported } from '../../broker/registry/registryAudit.js';
import { parseOptions, requireOption, UsageError, type CliContext, type Command } from '../command.js';
import { provisioningLogger } from './checkpoints.js';

const name = 'qrgate members import';
const count = (n: number) => n.toLocaleString('en-US');

/** Progress goes to stderr, so an operator sees a million rows move and stdout stays the answer. */
function showProgress(ctx: CliContext) {
  return (progress: ImportProgress) => {
    const perSecond = progress.elapsedMs > 0 ? Math.round((progress.rows * 1000) / progress.elapsedMs) : 0;
    ctx.stderr.write(
      progress.phase === 'reading'
        ? `${name}: ${count(progress.rows)} rows read (${count(perSecond)} rows/s)\n`
        : `${name}: ${count(progress.rows)} rows checked, writing them to the registry\n`,
    );
  };
}

function reportProblems(ctx: CliContext, file: string, err: MembersImportError, json: boolean): void {
  const lines = err.problems.map((p) => `  line ${p.line}: ${p.field === null ? p.message : describeProblem({ field: p.field, message: p.message })}`);
  const more = err.problemCount - err.problems.length;
  if (more > 0) lines.push(`  … and ${count(more)} more`);
  ctx.stderr.write(`${name}: ${file}: ${err.message}\n${lines.join('\n')}\n`);
  if (json) {
    ctx.stdout.write(`${JSON.stringify({ error: err.code, rows: err.rows, problemCount: err.problemCount, problems: err.problems })}\n`);
  }
}

/**
 * `qrgate members import`: adds new people and updates known ones (by ID number), all or
 * nothing. Exit 1 with every problem listed (the first 50) when any row is bad.
 */
export const run: Command = async (ctx) => {
  const { values, positionals } = parseOptions(ctx.argv, { 'central-config': { type: 'string' }, json: { type: 'boolean', default: false } }, true);
  if (positionals.length !== 1) throw new UsageError('expected one members file');
  const file = positionals[0]!;
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const hasher = registryRefHasher(config);
  try {
    const result = await withRegistry(config, async (db) => {
      const imported = await importMembers({ db, hasher, input: createReadStream(file), logger: provisioningLogger(ctx), onProgress: showProgress(ctx) });
      await recordCliAudit(db, membersImported(imported, null));
      return imported;
    });
    ctx.stdout.write(
      values.json
        ? `${JSON.stringify(result)}\n`
        : `members imported from ${file}: ${count(result.rows)} rows, ${count(result.added)} added, ${count(result.updated)} updated, ` +
            `${count(result.unchanged)} unchanged (${(result.elapsedMs / 1000).toFixed(1)} s)\n`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof MembersImportError)) throw err;
    reportProblems(ctx, file, err, values.json);
    return 1;
  }
};
