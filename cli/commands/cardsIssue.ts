import { recordCliAudit } from '../../broker/access/audit.js';
import { loadCentralConfig } from '../../broker/config.js';
import { issueCards, type CardSelection, type IssueCardsResult } from '../../broker/registry/cards.js';
import { memberKey } from '../../broker/registry/members.js';
import { registryRefHasher, withRegistry } from '../../broker/registry/registryDb.js';
import { cardsIssued } from '../../broker/registry/registryAudit.js';
import { groupCardNumber } from '../../broker/registry/cardSheet.js';
import { formatCardQr } from '../../protocol/credentials/card.js';
import { parseOptions, requireOption, UsageError, type Command } from '../command.js';

/** The selection options `cards issue` and `cards print` share. */
export const selectionOptions = {
  'id-number': { type: 'string' },
  unit: { type: 'string' },
  scope: { type: 'string' },
} as const;

interface SelectionValues {
  readonly 'id-number'?: string | undefined;
  readonly unit?: string | undefined;
  readonly scope?: string | undefined;
  readonly all?: boolean | undefined;
}

/**
 * Exactly one of --id-number, --unit, --scope, --all; with `noneMeansAll`, none at all
 * means everyone. The ID number is turned into its citizen ref (`idRef`) here and goes no further.
 */
export function cardSelectionFromOptions(values: SelectionValues, idRef: (rawIdNumber: string) => Buffer, noneMeansAll: boolean): CardSelection {
  const given = (['id-number', 'unit', 'scope', 'all'] as const).filter((name) => values[name] !== undefined && values[name] !== false);
  if (given.length > 1) throw new UsageError(`choose one of ${given.map((name) => `--${name}`).join(', ')}`);
  const idNumber = values['id-number'];
  if (idNumber !== undefined) return { by: 'member', idRef: idRef(idNumber) };
  if (values.unit !== undefined) return { by: 'unit', unit: values.unit };
  if (values.scope !== undefined) return { by: 'scope', scope: values.scope };
  if (values.all === true || noneMeansAll) return { by: 'all' };
  throw new UsageError('choose the members: --id-number N, --unit U, --scope S or --all');
}

function describe(result: IssueCardsResult, reissue: boolean): string {
  if (result.cardId !== undefined) {
    const number = groupCardNumber(result.cardId);
    if (result.issued === 1) return `card ${number} issued\n`;
    if (result.reissued === 1) return `card ${number} issued; the member's previous card is revoked\n`;
    return `the member already holds live card ${number}; --reissue replaces it\n`;
  }
  const skipped = reissue || result.skipped === 0 ? '' : ` (they hold a live card; --reissue replaces it)`;
  return `cards: ${result.issued} issued, ${result.reissued} reissued (previous cards revoked), ${result.skipped} skipped${skipped}\n`;
}

/**
 * For one member, the exact text the card's QR encodes, so a script can draw its own card
 * or feed a scanner without decoding the PDF.
 */
function withQrText(result: IssueCardsResult): IssueCardsResult & { readonly qrText?: string } {
  return result.cardId === undefined ? result : { ...result, qrText: formatCardQr(result.cardId) };
}

/**
 * `qrgate cards issue`. The output may carry a card number (for one member): the card is a
 * bearer token, but the operator asked for exactly that card. It never carries the ID number.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    ...selectionOptions,
    all: { type: 'boolean' },
    reissue: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const hasher = registryRefHasher(config);
  let idMasked: string | undefined;
  const selection = cardSelectionFromOptions(
    values,
    (raw) => {
      const key = memberKey(hasher, raw);
      idMasked = key.idMasked;
      return key.ref;
    },
    false,
  );
  const result = await withRegistry(config, (db) => issueCards(db, { hasher }, selection, { reissue: values.reissue }));
  // Recorded after the change, as cli/audited.ts does, and only when something changed.
  if (result.issued + result.reissued > 0) await withRegistry(config, (db) => recordCliAudit(db, cardsIssued(selection, result, idMasked)));
  ctx.stdout.write(values.json ? `${JSON.stringify(withQrText(result))}\n` : describe(result, values.reissue));
  return 0;
};
