import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

/**
 * The text of each text object (BT…ET) in a PDF pdfkit wrote, in drawing order, read back
 * through each font's ToUnicode map: what a person would copy out of it. Enough for pdfkit's
 * own output (hex glyph strings in TJ arrays, bfrange arrays and bfchar in the CMaps); not a
 * general PDF reader.
 */
export function pdfTextLines(file: string): string[] {
  const pdf = readFileSync(file).toString('latin1');
  const objects = new Map<string, { dict: string; stream: string }>();
  for (const [, id, body] of pdf.matchAll(/(\d+) 0 obj([\s\S]*?)endobj/g)) {
    const streamAt = body!.match(/stream\r?\n([\s\S]*?)\r?\nendstream/);
    let stream = '';
    if (streamAt) {
      try {
        stream = inflateSync(Buffer.from(streamAt[1]!, 'latin1')).toString('latin1');
      } catch {
        stream = streamAt[1]!;
      }
    }
    objects.set(id!, { dict: streamAt ? body!.slice(0, streamAt.index) : body!, stream });
  }
  const unicodeOf = new Map<string, Map<number, string>>();
  for (const { dict } of objects.values()) {
    for (const [, name, fontId] of dict.matchAll(/\/(F\d+) (\d+) 0 R/g)) {
      const cmapId = objects.get(fontId!)?.dict.match(/\/ToUnicode (\d+) 0 R/)?.[1];
      if (cmapId === undefined || unicodeOf.has(name!)) continue;
      unicodeOf.set(name!, parseCmap(objects.get(cmapId)?.stream ?? ''));
    }
  }
  const lines: string[] = [];
  for (const { stream } of objects.values()) {
    for (const [, block] of stream.matchAll(/BT([\s\S]*?)ET/g)) {
      let font = new Map<number, string>();
      let line = '';
      for (const [, fontName, hex] of block!.matchAll(/\/(F\d+) [\d.]+ Tf|<([0-9a-f]+)>/gi)) {
        if (fontName !== undefined) font = unicodeOf.get(fontName) ?? new Map();
        else line += hex!.match(/.{4}/g)!.map((cid) => font.get(parseInt(cid, 16)) ?? '\ufffd').join('');
      }
      if (line !== '') lines.push(line);
    }
  }
  return lines;
}

function parseCmap(cmap: string): Map<number, string> {
  const map = new Map<number, string>();
  const utf16 = (hex: string) => String.fromCharCode(...hex.match(/.{4}/g)!.map((h) => parseInt(h, 16)));
  for (const [, start, list] of cmap.matchAll(/<([0-9a-f]+)> <[0-9a-f]+> \[([^\]]*)\]/gi)) {
    [...list!.matchAll(/<([0-9a-f]+)>/gi)].forEach(([, hex], i) => map.set(parseInt(start!, 16) + i, utf16(hex!)));
  }
  for (const [, section] of cmap.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const [, code, hex] of section!.matchAll(/<([0-9a-f]+)>\s*<([0-9a-f]+)>/gi)) map.set(parseInt(code!, 16), utf16(hex!));
  }
  return map;
}
