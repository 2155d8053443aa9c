import fc from 'fast-check';

/**
 * fast-check arbitraries that damage a valid JSON document the ways a broken or hostile
 * sender would: a field replaced by a value of another type, a huge number or deep nesting;
 * a field removed; an unknown field added; the text cut or its bytes made invalid UTF-8.
 * For the property tests of every JSON input (MQTT payloads, config files, commands).
 */

export type JsonPath = readonly (string | number)[];

export interface JsonEdit {
  readonly op: 'set' | 'delete' | 'add';
  /** For `add`, the object the key is added to. */
  readonly path: JsonPath;
  readonly value?: unknown;
}

/**
 * Every generated string and added key starts with this, so a test can check that no error
 * message or log line quotes the payload back.
 */
export const payloadMarker = 'ZQXPAYLOAD';

function nested(depth: number): unknown {
  let value: unknown = payloadMarker;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { [payloadMarker]: value };
  return value;
}

/** Values of every JSON type, including the ones schemas forget: -0, 2^53 + 1, 1e308, deep nesting. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, -1, 0.5, 2 ** 53 + 1, Number.MAX_VALUE, -Number.MAX_VALUE, 1e21, 5e-324, [], {}),
  fc.integer({ min: -10, max: 70_000 }),
  fc.string({ unit: 'binary', maxLength: 30 }).map((text) => payloadMarker + text),
  fc.nat({ max: 2000 }).map(nested),
  fc.array(fc.constantFrom(1, 'x', null, {}), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }).map((key) => payloadMarker + key), fc.constantFrom(1, null, 'x'), { maxKeys: 3 }),
);

/** Paths to every object member and array element in `value`, parents before children. */
export function jsonPaths(value: unknown, prefix: JsonPath = []): JsonPath[] {
  if (value === null || typeof value !== 'object') return [];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((child, i) => [i, child]) : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...jsonPaths(child, [...prefix, key])]);
}

/** Paths to every object (the root included), where a key can be added. */
function objectPaths(value: unknown): JsonPath[] {
  return [[], ...jsonPaths(value)].filter((path) => {
    const target = at(value, path);
    return target !== null && typeof target === 'object' && !Array.isArray(target);
  });
}

function at(root: unknown, path: JsonPath): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** Applies `edits` to a copy of `root`; an edit whose path an earlier edit removed is skipped. */
export function applyEdits(root: unknown, edits: readonly JsonEdit[]): unknown {
  const copy = structuredClone(root);
  for (const edit of edits) {
    const parent = edit.op === 'add' ? edit.path : edit.path.slice(0, -1);
    const target = at(copy, parent) as Record<string | number, unknown> | unknown[] | undefined;
    if (target === null || typeof target !== 'object') continue;
    const key = edit.op === 'add' ? `${payloadMarker}${edit.path.length}` : edit.path[edit.path.length - 1]!;
    if (edit.op === 'delete') {
      if (Array.isArray(target)) target.splice(Number(key), 1);
      else delete (target as Record<string, unknown>)[key];
    } else {
      // A copy: fast-check hands out the same constant object to several edits, and two
      // edits placing one object inside itself would make a cycle JSON cannot write.
      (target as Record<string | number, unknown>)[key] = structuredClone(edit.value);
    }
  }
  return copy;
}

/** 1 to `maxEdits` edits at paths that exist in `valid`. */
export function jsonEdits(valid: unknown, maxEdits = 4): fc.Arbitrary<JsonEdit[]> {
  const paths = jsonPaths(valid);
  const objects = objectPaths(valid);
  const edit: fc.Arbitrary<JsonEdit> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), path: fc.constantFrom(...paths), value: hostileValue }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), path: fc.constantFrom(...paths) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('add' as const), path: fc.constantFrom(...objects), value: hostileValue }) },
  );
  return fc.array(edit, { minLength: 1, maxLength: maxEdits });
}

/** `valid` with a few edits, as JSON text. */
export function mutatedJson(valid: unknown, maxEdits = 4): fc.Arbitrary<string> {
  return jsonEdits(valid, maxEdits).map((edits) => JSON.stringify(applyEdits(valid, edits)));
}

const hugeNumbers = ['1e400', '-1e400', '123456789012345678901234567890', '1e-400', '-0', '0.1e1', '9007199254740993'];

/**
 * `text` damaged below the JSON level: a number literal JSON.stringify cannot write, bytes
 * overwritten (invalid UTF-8 included), the text cut short, or junk after it.
 */
export function mutatedJsonText(text: string): fc.Arbitrary<Buffer> {
  const numberCount = Math.max(1, (text.match(/-?\d+(\.\d+)?([eE][+-]?\d+)?/g) ?? []).length);
  return fc.oneof(
    fc.record({ nth: fc.nat({ max: numberCount - 1 }), literal: fc.constantFrom(...hugeNumbers) }).map(({ nth, literal }) => {
      let seen = 0;
      return Buffer.from(text.replace(/-?\d+(\.\d+)?([eE][+-]?\d+)?/g, (match) => (seen++ === nth ? literal : match)));
    }),
    fc.array(fc.record({ at: fc.nat(), byte: fc.oneof(fc.constantFrom(0x00, 0x80, 0xc0, 0xed, 0xff, 0x22, 0x5c), fc.integer({ min: 0, max: 255 })) }), { minLength: 1, maxLength: 6 }).map(
      (flips) => {
        const bytes = Buffer.from(text);
        for (const { at: i, byte } of flips) bytes[i % bytes.length] = byte;
        return bytes;
      },
    ),
    fc.nat().map((cut) => Buffer.from(text).subarray(0, cut % Math.max(1, Buffer.byteLength(text)))),
    fc.uint8Array({ minLength: 1, maxLength: 20 }).map((tail) => Buffer.concat([Buffer.from(text), Buffer.from(tail)])),
  );
}

/**
 * Not a document at all: random bytes, or nesting deep enough to trouble a recursive
 * parser. At most 200 kB, under the broker's default packet bound (256 KiB), so the same
 * payloads can go over a real socket.
 */
export const notJson: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'binary', maxLength: 200 }).map((text) => Buffer.from(text)),
  fc.record({ depth: fc.integer({ min: 1, max: 40_000 }), open: fc.constantFrom('[', '{"a":') }).map(({ depth, open }) => Buffer.from(open.repeat(depth))),
  fc.integer({ min: 1, max: 20_000 }).map((depth) => Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`)),
);

/** A valid JSON text damaged as a value, as text, or replaced by noise. */
export function damagedJson(valid: string): fc.Arbitrary<Buffer | string> {
  return fc.oneof({ weight: 3, arbitrary: mutatedJson(JSON.parse(valid)) }, { weight: 2, arbitrary: mutatedJsonText(valid) }, { weight: 1, arbitrary: notJson });
}
