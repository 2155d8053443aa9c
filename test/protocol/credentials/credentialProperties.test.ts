import { randomBytes } from 'node:crypto';
import { propertyRuns } from '../../helpers/propertyRuns.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRefHasher } from '../../../protocol/credentialRef.js';
import { credentialNamespaces, formatCardQr, generateCardId, normaliseCredentialId, parseCredential, type ParseResult } from '../../../protocol/credentials/index.js';

/**
 * The credential parsers under fast-check: every QR form a person can carry, generated
 * valid and then damaged, plus plain noise. Each run: 3 x 1,000 + 3 x 500 = 4,500 cases.
 *
 * What must hold: nothing throws; a refusal is `malformed` with a short printable detail
 * that quotes no run of the input (the detail is logged, the input may be an ID number);
 * and one person's ID gives one credential ref whichever QR form carried it.
 */

const RUNS = propertyRuns(1000);
const hashRef = createRefHasher(randomBytes(32));

// Field content as real QRs carry it: Vietnamese letters (precomposed or not), digits, punctuation; never '|'.
const vietnamese = 'aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵĐĂÂÊÔƠƯ';
const fieldText = fc
  .string({ unit: fc.constantFrom(...`${vietnamese}ABCNguyễnHuế ,./-0123456789`), maxLength: 40 })
  .chain((text) => fc.constantFrom(text, text.normalize('NFD')));
const digits = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: length, maxLength: length });
const citizenId = fc.oneof(digits(12), digits(9));
const calendarDate = fc.date({ min: new Date(Date.UTC(1900, 0, 1)), max: new Date(Date.UTC(2150, 11, 31)), noInvalidDate: true });
const ddmmyyyy = calendarDate.map((d) => d.toISOString().slice(0, 10).split('-').reverse().join(''));
const isoDay = calendarDate.map((d) => d.toISOString().slice(0, 10));

/** A CCCD QR (7 fields, or 6 without the old CMND) for a 12-digit id. */
function cccdQr(id: string): fc.Arbitrary<string> {
  const oldId = fc.oneof(fc.constant(''), digits(9), digits(12));
  return fc
    .record({ oldId: fc.option(oldId, { nil: undefined }), name: fieldText, birth: ddmmyyyy, gender: fc.constantFrom('Nam', 'Nữ'), address: fieldText, issue: ddmmyyyy })
    .map(({ oldId, name, birth, gender, address, issue }) =>
      [id, ...(oldId === undefined ? [] : [oldId]), name, birth, gender, address, issue].join('|'),
    );
}

/** A PC-Covid / Hue-S QR for a 9- or 12-digit id; EXT holds `<`-separated sub-fields. */
function pcCovidQr(id: string): fc.Arbitrary<string> {
  const qid = fc.stringMatching(/^[A-Za-z0-9-]{4,20}$/);
  return fc
    .record({ name: fieldText, birth: isoDay, type: fc.constantFrom('1', '2', 'CD'), qid, ext: fc.array(fieldText, { maxLength: 3 }) })
    .map(({ name, birth, type, qid, ext }) => [id, name, birth, type, qid, ext.join('<')].join('|'));
}

/** An ID as an operator types it: grouped by spaces or dashes as printed. */
function typedId(id: string): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom('', ' ', '-', '  '), { minLength: id.length, maxLength: id.length }).map((gaps) => [...id].map((d, i) => d + gaps[i]).join('').trim());
}

/** What a scanner frame may add: the suffix, stray spaces, a BOM. */
const framing = fc.record({ before: fc.constantFrom('', ' ', '\ufeff'), after: fc.constantFrom('', '\r\n', '\n', '\r', ' ') });
const framed = (text: fc.Arbitrary<string>) => fc.tuple(text, framing).map(([t, { before, after }]) => `${before}${t}${after}`);

const cardId = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => generateCardId(() => Buffer.from(bytes)));
/** The same card QR as a scanner may deliver it: Caps Lock, Crockford's O/I/L aliases. */
const cardQrSpelling = (qr: string) =>
  fc.constantFrom(qr, qr.toLowerCase(), `QG1:${qr.slice(4).replaceAll('0', 'O').replaceAll('1', 'I')}`, `QG1:${qr.slice(4).replaceAll('1', 'l')}`);

const anyValidQr = fc.oneof(
  digits(12).chain(cccdQr),
  citizenId.chain(pcCovidQr),
  cardId.map(formatCardQr),
);

/** A valid QR damaged as a bad read or a forger would: characters replaced, inserted, deleted, cut. */
const damagedQr = fc
  .tuple(
    anyValidQr,
    fc.array(
      fc.record({
        at: fc.nat(),
        op: fc.constantFrom('replace', 'insert', 'delete'),
        char: fc.oneof(fc.constantFrom('|', '<', ':', '0', '9', ' ', '\u0000', '\r', '\u0085', 'Q', 'G', 'ệ', '\ud800'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
      }),
      { minLength: 1, maxLength: 5 },
    ),
  )
  .map(([qr, edits]) => {
    let chars = [...qr];
    for (const { at, op, char } of edits) {
      const i = at % (chars.length + 1);
      if (op === 'insert') chars.splice(i, 0, char);
      else if (op === 'replace') chars[Math.min(i, chars.length - 1)] = char;
      else chars.splice(i, 1);
    }
    return chars.join('');
  });

/** Noise a scanner or a keyboard can send. */
const noise = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('utf8')),
  fc.string({ unit: fc.constantFrom(...'0123456789|- QG:'), maxLength: 80 }),
  fc.nat({ max: 5000 }).map((n) => 'Q'.repeat(n)),
  // Digits where a format's prefix or field is expected: the spots most likely to be echoed.
  fc
    .tuple(fc.constantFrom('', 'QG', 'qg', 'QG1:', 'Qg0'), fc.stringMatching(/^\d{1,15}$/), fc.constantFrom(':', '|', ' ', ''), fc.string({ maxLength: 40 }))
    .map((parts) => parts.join('')),
);

/** Runs of the input that hold a digit, 6+ characters: anything that could be (part of) an ID number. */
function idLikeRuns(input: string): string[] {
  return (input.match(/[\p{L}\p{N}]{6,}/gu) ?? []).filter((run) => /\d/.test(run));
}

function expectCleanOutcome(input: string, result: ParseResult): void {
  if (result.ok) {
    const { namespace, id } = result.credential;
    const shapes = { citizen: /^(\d{9}|\d{12})$/, card: /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/, app: /^[A-Za-z0-9-]{4,64}$/ };
    expect(id).toMatch(shapes[namespace]);
    return;
  }
  expect(result.reason).toBe('malformed');
  expectQuotesNothing(input, result.detail);
}

/** A detail's numbers are counts and limits (at most 4 digits); 6 digits in a row could be part of an ID. */
function expectQuotesNothing(input: string, detail: string): void {
  expect(detail).toMatch(/^[\x20-\x7e]{5,200}$/);
  expect(detail).not.toMatch(/\d{6}/);
  for (const run of idLikeRuns(input)) expect(detail).not.toContain(run);
}

function parsedRef(text: string, typed: boolean): string {
  const result = parseCredential(text, { typed });
  if (!result.ok) return expect.fail(`refused ${JSON.stringify(text)}: ${result.detail}`);
  return hashRef(result.credential.namespace, result.credential.id).toString('hex');
}

describe('credential parsers (fast-check)', () => {
  it(`never throw on noise; refusals are malformed with a detail that quotes nothing (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(noise, fc.boolean(), (input, typed) => expectCleanOutcome(input, parseCredential(input, { typed }))),
      { numRuns: RUNS },
    );
  });

  it(`never throw on damaged QRs of every form; refusals quote nothing (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(damagedQr, fc.boolean(), (input, typed) => expectCleanOutcome(input, parseCredential(input, { typed }))),
      { numRuns: RUNS },
    );
  });

  it(`a 12-digit ID gives one ref from the 7- and 6-field CCCD QR, PC-Covid, typed and registered forms (${RUNS / 2} cases)`, () => {
    fc.assert(
      fc.property(
        digits(12).chain((id) => fc.record({ id: fc.constant(id), cccd: framed(cccdQr(id)), pcCovid: framed(pcCovidQr(id)), typed: typedId(id) })),
        ({ id, cccd, pcCovid, typed }) => {
          const registered = normaliseCredentialId('citizen', id);
          expect(registered).toEqual({ ok: true, id });
          const ref = hashRef('citizen', id).toString('hex');
          expect(parsedRef(cccd, false)).toBe(ref);
          expect(parsedRef(pcCovid, false)).toBe(ref);
          expect(parsedRef(typed, true)).toBe(ref);
        },
      ),
      { numRuns: RUNS / 2 },
    );
  });

  it(`a 9-digit CMND gives one ref from PC-Covid, typed and registered forms (${RUNS / 2} cases)`, () => {
    fc.assert(
      fc.property(
        digits(9).chain((id) => fc.record({ id: fc.constant(id), pcCovid: framed(pcCovidQr(id)), typed: typedId(id) })),
        ({ id, pcCovid, typed }) => {
          const ref = hashRef('citizen', id).toString('hex');
          expect(parsedRef(pcCovid, false)).toBe(ref);
          expect(parsedRef(typed, true)).toBe(ref);
          expect(normaliseCredentialId('citizen', id)).toEqual({ ok: true, id });
        },
      ),
      { numRuns: RUNS / 2 },
    );
  });

  it(`a card gives one ref however its QR is spelt, and as the registered id (${RUNS / 2} cases)`, () => {
    fc.assert(
      fc.property(
        cardId.chain((id) => fc.record({ id: fc.constant(id), scanned: framed(cardQrSpelling(formatCardQr(id))) })),
        ({ id, scanned }) => {
          expect(normaliseCredentialId('card', id.toLowerCase())).toEqual({ ok: true, id });
          expect(normaliseCredentialId('card', formatCardQr(id))).toEqual({ ok: true, id });
          expect(parsedRef(scanned, false)).toBe(hashRef('card', id).toString('hex'));
        },
      ),
      { numRuns: RUNS / 2 },
    );
  });

  it(`normaliseCredentialId never throws and never quotes the id it refuses (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(fc.constantFrom(...credentialNamespaces), fc.oneof(noise, damagedQr), (namespace, raw) => {
        const result = normaliseCredentialId(namespace, raw);
        if (result.ok) return;
        expectQuotesNothing(raw, result.detail);
      }),
      { numRuns: RUNS },
    );
  });
});
