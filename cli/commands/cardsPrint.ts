import { resolve } from 'node:path';
import { loadCentralConfig } from '../../broker/config.js';
import { openLiveCards } from '../../broker/registry/cards.js';
import { memberKey } from '../../broker/registry/members.js';
import { registryRefHasher, withRegistry } from '../../broker/registry/registryDb.js';
import { sheetKinds, type SheetKind } from '../../broker/registry/cardSheet.js';
import { writeCardsPdf } from '../../broker/registry/cardsPdf.js';
import { parseOptions, requireOption, UsageError, type Command } from '../command.js';
import { cardSelectionFromOptions, selectionOptions } from './cardsIssue.js';

function sheetKind(value: string): SheetKind {
  if (!(sheetKinds as readonly string[]).includes(value)) throw new UsageError(`--sheet must be ${sheetKinds.join(' | ')}, got "${value}"`);
  return value as SheetKind;
}

/**
 * `qrgate cards print`: the live cards of the selection (everyone without a selection),
 * by unit then name, as a PDF for a card printer (`cr80`, one card per page) or for A4
 * card sheets (`a4`, 10 per page). The PDF holds working cards: print it, do not mail it.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    out: { type: 'string' },
    ...selectionOptions,
    sheet: { type: 'string', default: 'cr80' },
    json: { type: 'boolean', default: false },
  });
  const file = resolve(requireOption(values, 'out'));
  const sheet = sheetKind(values.sheet);
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const selection = cardSelectionFromOptions(values, (raw) => memberKey(registryRefHasher(config), raw).ref, true);
  const result = await withRegistry(config, async (db) => writeCardsPdf((await openLiveCards(db, selection)).cards, { sheet, file }));
  ctx.stdout.write(
    values.json
      ? `${JSON.stringify({ file, sheet, ...result })}\n`
      : `${result.cards} cards on ${result.pages} ${sheet === 'a4' ? 'A4 pages' : 'CR80 pages'} written to ${file}\n`,
  );
  return 0;
};
