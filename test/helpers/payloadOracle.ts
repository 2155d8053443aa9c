import fc from 'fast-check';
import { credentialTypes, decisions, directions, reasons } from '../../protocol/event.js';
import { maxEventsPerBatch } from '../../protocol/messages.js';
import { payloadMarker } from './jsonMutations.js';

/**
 * MQTT payloads that are valid or invalid BY CONSTRUCTION, for checking the ingestion
 * validator against something other than itself. Each shape below restates the protocol
 * (protocol/event.ts, protocol/messages.ts) as generators: what a field accepts, and values
 * of an accepted type it must still refuse. An invalid payload is a valid one with exactly
 * one thing broken in a known way, and carries where (`path`, as the validator's reason
 * names it) and how (`kind`).
 */

export type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object';

export interface FieldSpec {
  /** The JSON types the field accepts: a value of any other type is refused. */
  readonly types: readonly JsonType[];
  readonly valid: fc.Arbitrary<unknown>;
  /** Values of an accepted type the field must still refuse: out of range, wrong format, oversize. */
  readonly refused?: fc.Arbitrary<unknown>;
  readonly optional?: boolean;
  /** An object of this shape, or an array of them: a break inside one is a break of the payload. */
  readonly nested?: { readonly shape: Shape; readonly array?: { readonly min: number; readonly max: number } };
}

export interface Shape {
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** Strict: an unknown key is refused. Otherwise it is accepted and dropped from the value. */
  readonly strict: boolean;
}

export type BreakKind = 'wrong-type' | 'refused-value' | 'missing' | 'unknown-key' | 'not-json';

export interface ValidPayload {
  readonly payload: string;
  /** What the validator must hand on: the payload's value with unknown keys of lenient shapes dropped. */
  readonly kept: unknown;
}

export interface InvalidPayload {
  readonly payload: string;
  readonly kind: BreakKind;
  /** Where the break is, as the validator's reason names it ('(top level)' for the payload itself; '' for not-JSON). */
  readonly path: string;
}

// ---------------------------------------------------------------- field building blocks

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const digits = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: length, maxLength: length });
/** Any text, unicode included, of 1..max UTF-16 units (how zod counts a string's length). */
const text = (min: number, max: number) => fc.string({ unit: 'binary', minLength: min, maxLength: max }).filter((s) => s.length >= min && s.length <= max);
/** Text a field refuses as too long or empty, marked so a test sees whether a reason quotes it. */
const tooLong = (max: number) => fc.string({ minLength: max + 1 - payloadMarker.length, maxLength: max + 20 }).map((s) => payloadMarker + s);
const marked = (arb: fc.Arbitrary<string>) => arb.map((s) => payloadMarker + s);

const isoDateTime = fc
  .tuple(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }), fc.boolean())
  .map(([date, millis]) => (millis ? date.toISOString() : date.toISOString().replace(/\.\d{3}Z$/, 'Z')));
/** Not an ISO 8601 UTC date-time: a date alone, a space for the T, no seconds, a day that does not exist, a word. */
const notIsoDateTime = fc.oneof(
  isoDateTime.map((iso) => iso.slice(0, 10)),
  isoDateTime.map((iso) => iso.replace('T', ' ')),
  isoDateTime.map((iso) => iso.slice(0, 16) + 'Z'),
  fc.constantFrom('2026-02-30T10:00:00Z', '2026-13-01T10:00:00Z', '2026-01-01T24:00:00Z', 'yesterday', '1767225600000'),
  marked(fc.string({ maxLength: 10 })),
);

const uuidV7 = fc.uuid({ version: 7 });
const anyUuid = fc.uuid({ version: [1, 2, 3, 4, 5, 6, 7, 8] });
/** Malformed as a UUID: version nibble 0 or 9, a bad variant, no dashes, a digit short. */
const notUuid = fc.oneof(
  fc.tuple(anyUuid, fc.constantFrom('0', '9')).map(([u, version]) => `${u.slice(0, 14)}${version}${u.slice(15)}`),
  anyUuid.map((u) => `${u.slice(0, 19)}c${u.slice(20)}`),
  anyUuid.map((u) => u.replaceAll('-', '')),
  anyUuid.map((u) => u.slice(1)),
  marked(fc.string({ maxLength: 36 })),
);

const safeInt = (min: number) => fc.integer({ min, max: Number.MAX_SAFE_INTEGER });
/** Refused by an integer field: fractions, and integers past 2^53 that JSON cannot carry exactly. */
const notInteger = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)), fc.constantFrom(2 ** 53, -(2 ** 53), 1e21));
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const nonNegative = fc.double({ min: 0, noNaN: true, noDefaultInfinity: true });
const negative = fc.double({ max: -Number.MIN_VALUE, noNaN: true, noDefaultInfinity: true });

/** Keys no shape knows, marked; `__proto__` among them, as a hostile sender would try. */
const unknownKey = (shape: Shape) =>
  fc.oneof(fc.constant('__proto__'), marked(fc.string({ maxLength: 12 }))).filter((key) => !Object.hasOwn(shape.fields, key));

const anyJson: fc.Arbitrary<unknown> = fc.oneof(fc.constant(null), fc.boolean(), finite, marked(fc.string({ maxLength: 10 })), fc.constant([]), fc.constant({}));

function oneOf<T extends string>(values: readonly T[]): FieldSpec {
  const known = new Set<string>(values);
  return { types: ['string'], valid: fc.constantFrom(...values), refused: fc.string({ maxLength: 20 }).filter((s) => !known.has(s)) };
}
const orNull = (spec: FieldSpec): FieldSpec => ({ ...spec, types: [...spec.types, 'null'], valid: fc.option(spec.valid, { nil: null }) });
const boolean: FieldSpec = { types: ['boolean'], valid: fc.boolean() };
const string: FieldSpec = { types: ['string'], valid: text(0, 40) };
const dateTime: FieldSpec = { types: ['string'], valid: isoDateTime, refused: notIsoDateTime };
const uuid: FieldSpec = { types: ['string'], valid: anyUuid, refused: notUuid };
const count: FieldSpec = { types: ['number'], valid: safeInt(0), refused: fc.oneof(fc.integer({ max: -1 }), notInteger) };
const v1: FieldSpec = { types: ['number'], valid: fc.constant(1), refused: finite.filter((n) => n !== 1) };
const object = (shape: Shape, optional = false): FieldSpec => ({ types: ['object'], valid: validKept(shape).map((p) => p.sent), optional, nested: { shape } });
const arrayOf = (shape: Shape, min: number, max: number, refused?: fc.Arbitrary<unknown>): FieldSpec => ({
  types: ['array'],
  valid: fc.array(validKept(shape).map((p) => p.sent), { minLength: min, maxLength: max }),
  ...(refused ? { refused } : {}),
  nested: { shape, array: { min, max } },
});

// ---------------------------------------------------------------- the protocol's shapes

export interface Publisher {
  readonly terminalId: string;
  readonly checkpointCode: string;
}

/** protocol/event.ts, for events published by `who`: an event naming another terminal or checkpoint is refused. */
export function scanEventShape(who: Publisher): Shape {
  return {
    strict: false,
    fields: {
      id: { types: ['string'], valid: uuidV7, refused: fc.oneof(fc.uuid({ version: [1, 4, 6, 8] }), notUuid) },
      terminalId: { types: ['string'], valid: fc.constant(who.terminalId), refused: fc.oneof({ weight: 3, arbitrary: text(1, 64).filter((id) => id !== who.terminalId) }, fc.constant(''), tooLong(64)) },
      checkpointCode: {
        types: ['string'],
        valid: fc.constant(who.checkpointCode),
        // Mostly another checkpoint's code: well-formed, so only the publisher check refuses it.
        refused: fc.oneof({ weight: 3, arbitrary: digits(14).filter((code) => code !== who.checkpointCode) }, digits(13), digits(15), digits(13).map((d) => `${d}x`)),
      },
      lane: { types: ['string'], valid: text(1, 32), refused: fc.oneof(fc.constant(''), tooLong(32)) },
      direction: oneOf(directions),
      seq: { types: ['number'], valid: safeInt(1), refused: fc.oneof(fc.integer({ max: 0 }), notInteger) },
      bootId: uuid,
      ts: dateTime,
      clockTrusted: boolean,
      credentialType: oneOf(credentialTypes),
      credentialRef: orNull({
        types: ['string'],
        valid: hex(64),
        refused: fc.oneof(hex(64).filter((h) => /[a-f]/.test(h)).map((h) => h.toUpperCase()), hex(63), hex(65), hex(63).map((h) => `${h}g`)),
      }),
      listVersion: orNull(count),
      decision: oneOf(decisions),
      reason: oneOf(reasons),
      passback: boolean,
      passed: orNull(boolean),
      latencyMs: orNull({ types: ['number'], valid: nonNegative, refused: negative }),
    },
  };
}

/** protocol/messages.ts eventBatchSchema: 1..maxEventsPerBatch events, the envelope strict. */
export function eventBatchShape(who: Publisher): Shape {
  const event = scanEventShape(who);
  const oneEvent = validKept(event).map((p) => p.sent);
  return {
    strict: true,
    fields: {
      v: v1,
      // A few events per batch keep runs quick; the limits get their own refused values.
      events: arrayOf(event, 1, 5, fc.oneof(fc.constant([]), oneEvent.map((e) => Array.from({ length: maxEventsPerBatch + 1 }, () => e)))),
    },
  };
}

export const statusShape: Shape = {
  strict: true,
  fields: { v: v1, state: oneOf(['online', 'offline']), bootId: uuid, at: dateTime },
};

const listShape: Shape = {
  strict: true,
  fields: {
    scope: string,
    version: orNull({ types: ['number'], valid: fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), refused: notInteger }),
    ageS: orNull({ types: ['number'], valid: finite }),
    expiresAt: orNull(dateTime),
    stale: boolean,
  },
};
const scannerShape: Shape = { strict: true, fields: { lane: string, connected: boolean } };
const storageShape: Shape = {
  strict: true,
  fields: {
    writable: boolean,
    error: orNull({ types: ['string'], valid: text(0, 64), refused: tooLong(64) }),
    since: orNull(dateTime),
    failures: count,
  },
};

export const telemetryShape: Shape = {
  strict: true,
  fields: {
    v: v1,
    bootId: uuid,
    at: dateTime,
    uptimeS: { types: ['number'], valid: nonNegative, refused: negative },
    outboxDepth: count,
    inFlight: count,
    lists: arrayOf(listShape, 0, 3),
    scanners: arrayOf(scannerShape, 0, 3),
    clockTrusted: boolean,
    clockSynced: orNull(boolean),
    storage: object(storageShape, true),
  },
};

// ---------------------------------------------------------------- valid by construction

interface SentKept {
  readonly sent: unknown;
  readonly kept: unknown;
}

function fieldKept(spec: FieldSpec): fc.Arbitrary<SentKept> {
  const nested = spec.nested;
  if (!nested) return spec.valid.map((value) => ({ sent: value, kept: value }));
  if (!nested.array) return validKept(nested.shape);
  return fc.array(validKept(nested.shape), { minLength: nested.array.min, maxLength: nested.array.max }).map((items) => ({
    sent: items.map((item) => item.sent),
    kept: items.map((item) => item.kept),
  }));
}

/** A valid value of `shape`, and what validation keeps of it (a lenient shape drops unknown keys). */
export function validKept(shape: Shape): fc.Arbitrary<SentKept> {
  const entries = Object.entries(shape.fields);
  const fields = fc.tuple(...entries.map(([key, spec]) => (spec.optional ? fc.option(fieldKept(spec), { nil: undefined }) : fieldKept(spec)).map((p) => [key, p] as const)));
  const extras = shape.strict ? fc.constant([] as Array<[string, unknown]>) : fc.array(fc.tuple(unknownKey(shape), anyJson), { maxLength: 2 });
  return fc.tuple(fields, extras).map(([pairs, extra]) => {
    const present = pairs.filter((pair): pair is readonly [string, SentKept] => pair[1] !== undefined);
    const kept = Object.fromEntries(present.map(([key, p]) => [key, p.kept]));
    // Object.fromEntries defines own properties: a '__proto__' key stays a key.
    const sent = Object.fromEntries([...present.map(([key, p]) => [key, p.sent] as const), ...extra]);
    return { sent, kept };
  });
}

export function validPayload(shape: Shape): fc.Arbitrary<ValidPayload> {
  return validKept(shape).map(({ sent, kept }) => {
    const payload = JSON.stringify(sent);
    // What JSON can carry: -0 arrives as 0.
    return { payload, kept: JSON.parse(JSON.stringify(kept)) as unknown };
  });
}

// ---------------------------------------------------------------- invalid by construction

type PathSegment = string | number;

interface Broken {
  readonly sent: unknown;
  readonly kind: BreakKind;
  readonly at: readonly PathSegment[];
}

const valueOfType: Record<JsonType, fc.Arbitrary<unknown>> = {
  string: marked(fc.string({ maxLength: 10 })),
  number: finite,
  boolean: fc.boolean(),
  null: fc.constant(null),
  array: fc.array(fc.integer(), { maxLength: 2 }),
  object: fc.constantFrom({}, { [payloadMarker]: 1 }),
};

function wrongType(accepted: readonly JsonType[]): fc.Arbitrary<unknown> {
  const others = (Object.keys(valueOfType) as JsonType[]).filter((type) => !accepted.includes(type));
  return fc.constantFrom(...others).chain((type) => valueOfType[type]);
}

/** A path as the validator's reason writes it: `events[2].seq`, `(top level)`. */
function formatPath(at: readonly PathSegment[]): string {
  const joined = at.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${segment}`)).join('');
  return joined.replace(/^\./, '') || '(top level)';
}

function withField(value: unknown, key: string, replacement: unknown): Record<string, unknown> {
  return Object.fromEntries([...Object.entries(value as Record<string, unknown>).filter(([k]) => k !== key), [key, replacement]]);
}

function withoutField(value: unknown, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([k]) => k !== key));
}

/**
 * Every place and way one value of `shape` can be broken, each a generator of the whole
 * value broken there. Flat, so that a break deep in a nested array is drawn as often as
 * one at the top: fast-check picks among sites uniformly.
 */
function breakSites(shape: Shape): Array<fc.Arbitrary<Broken>> {
  const base = validKept(shape).map((p) => p.sent);
  const sites: Array<fc.Arbitrary<Broken>> = [];
  for (const [key, spec] of Object.entries(shape.fields)) {
    sites.push(fc.tuple(base, wrongType(spec.types)).map(([value, bad]) => ({ sent: withField(value, key, bad), kind: 'wrong-type' as const, at: [key] })));
    if (spec.refused) {
      sites.push(fc.tuple(base, spec.refused).map(([value, bad]) => ({ sent: withField(value, key, bad), kind: 'refused-value' as const, at: [key] })));
    }
    if (!spec.optional) sites.push(base.map((value) => ({ sent: withoutField(value, key), kind: 'missing' as const, at: [key] })));
    const nested = spec.nested;
    if (!nested) continue;
    const inner = [
      ...breakSites(nested.shape),
      ...(nested.array ? [wrongType(['object']).map((bad): Broken => ({ sent: bad, kind: 'wrong-type', at: [] }))] : []),
    ];
    for (const site of inner) {
      if (!nested.array) {
        sites.push(fc.tuple(base, site).map(([value, broken]) => ({ ...broken, sent: withField(value, key, broken.sent), at: [key, ...broken.at] })));
        continue;
      }
      const item = validKept(nested.shape).map((p) => p.sent);
      const { min, max } = nested.array;
      sites.push(
        fc.tuple(base, fc.array(item, { minLength: Math.max(min, 1), maxLength: Math.max(max, 1) }), fc.nat(), site).map(([value, items, pick, broken]) => {
          const index = pick % items.length;
          const replaced = items.map((it, i) => (i === index ? broken.sent : it));
          return { ...broken, sent: withField(value, key, replaced), at: [key, index, ...broken.at] };
        }),
      );
    }
  }
  if (shape.strict) {
    sites.push(
      fc.tuple(base, unknownKey(shape), anyJson).map(([value, key, extra]) => ({
        sent: Object.fromEntries([...Object.entries(value as object), [key, extra]]),
        kind: 'unknown-key' as const,
        at: [],
      })),
    );
  }
  return sites;
}

/** Text that is not one JSON value: cut short, garbage before or after, a BOM, JSON5-isms. */
function notJson(valid: string): fc.Arbitrary<string> {
  const jsonSpace = new Set([' ', '\t', '\n', '\r']);
  const garbage = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !jsonSpace.has(s[0]!));
  return fc.oneof(
    fc.nat({ max: valid.length - 1 }).map((length) => valid.slice(0, length)),
    garbage.map((g) => valid + g),
    fc.constantFrom('x', '\uFEFF', '{}', '[', 'null').map((g) => g + valid),
    fc.constant(`${valid.slice(0, -1)},}`),
    fc.constant(valid.replace('"v":1', '"v":NaN')),
    fc.constant(valid.replace('"v":1', "'v':1")),
    fc.constant(valid.replace('"v":1', 'v:1')),
  );
}

/** A payload of `shape` with exactly one thing broken, and where. */
export function invalidPayload(shape: Shape): fc.Arbitrary<InvalidPayload> {
  const sites = breakSites(shape).map((site) => site.map(({ sent, kind, at }) => ({ payload: JSON.stringify(sent), kind, path: formatPath(at) })));
  const broken = validPayload(shape).chain(({ payload }) => notJson(payload).map((text) => ({ payload: text, kind: 'not-json' as const, path: '' })));
  // Not-JSON weighs as much as a tenth of the sites: a handful of ways against dozens of fields.
  return fc.oneof(...sites.map((arbitrary) => ({ weight: 10, arbitrary })), { weight: sites.length, arbitrary: broken });
}
