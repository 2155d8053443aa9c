import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

/** What a test can check in a PDF without a renderer: pages, their sizes, the embedded fonts and the characters they map. */
export function pdfStructure(file: string) {
  const text = readFileSync(file).toString('latin1');
  const mediaBoxes = [...text.matchAll(/\/MediaBox \[([^\]]*)\]/g)].map((m) => m[1]!.trim().split(/\s+/).map(Number));
  const streams = [...text.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)].map((m) => {
    try {
      return inflateSync(Buffer.from(m[1]!, 'latin1')).toString('latin1');
    } catch {
      return '';
    }
  });
  // ToUnicode CMaps list, per embedded font, the UTF-16 of every glyph drawn: a character the
  // font lacked would be drawn as .notdef and appear in none of them.
  const mappedChars = new Set<string>();
  for (const cmap of streams.filter((s) => s.includes('begincmap'))) {
    for (const [, hex] of cmap.matchAll(/<([0-9a-f]{4,})>/gi)) mappedChars.add(String.fromCharCode(...hex!.match(/.{4}/g)!.map((h) => parseInt(h, 16))));
  }
  return {
    header: text.slice(0, 8),
    pages: (text.match(/\/Type \/Page\b/g) ?? []).length,
    mediaBoxes,
    // Each font is named twice: by its Type0 font and by its CID descendant.
    embeddedFonts: [...new Set([...text.matchAll(/\/BaseFont \/[A-Z]{6}\+([\w-]+)/g)].map((m) => m[1]))],
    fontFiles: (text.match(/\/FontFile2/g) ?? []).length,
    mappedChars,
  };
}
