/**
 * How server/slips/fonts/slip-{regular,bold}.otf were made — run again after changing server/slips/slips.text.ts:
 *
 *   apt-get install -y fonts-noto-cjk      # Debian's Noto Sans CJK 2.004, SIL OFL 1.1
 *   npx tsx scripts/make-slip-font.ts [folder holding NotoSansCJK-Regular.ttc and NotoSansCJK-Bold.ttc]
 *
 * Each .ttc holds ten faces; we copy one out into a standalone OpenType file, then let harfbuzz
 * (subset-font, wasm) keep only the glyphs of SLIP_FONT_CHARS. The server reads the results and never
 * needs a system font. The licence beside them (OFL.txt) must travel with the fonts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as fontkit from 'fontkit';
import subsetFont from 'subset-font';
import { SLIP_FONT_CHARS } from '../server/slips/slips.text.ts';

const SOURCE_DIR = process.argv[2] ?? '/usr/share/fonts/opentype/noto';
const OUT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../server/slips/fonts');

const FONTS = [
  { out: 'slip-regular.otf', collection: 'NotoSansCJK-Regular.ttc', face: 'NotoSansCJKsc-Regular', chars: SLIP_FONT_CHARS.regular },
  // The Mono face: its Latin is monospaced (Source Code Pro's), so 8/B, 5/S and 2/Z stay apart in a short code.
  { out: 'slip-bold.otf', collection: 'NotoSansCJK-Bold.ttc', face: 'NotoSansMonoCJKsc-Bold', chars: SLIP_FONT_CHARS.bold },
];

/** Copy one face of a font collection into a file of its own (the collection's tables are shared, their offsets absolute). */
function extractFace(ttc: Buffer, postscriptName: string): Buffer {
  if (ttc.toString('latin1', 0, 4) !== 'ttcf') throw new Error('not a font collection');
  const numFonts = ttc.readUInt32BE(8);
  for (let i = 0; i < numFonts; i++) {
    const dir = ttc.readUInt32BE(12 + 4 * i);
    const numTables = ttc.readUInt16BE(dir + 4);
    const headerLength = 12 + 16 * numTables;
    const tables = Array.from({ length: numTables }, (_, t) => ({
      offset: ttc.readUInt32BE(dir + 12 + 16 * t + 8),
      length: ttc.readUInt32BE(dir + 12 + 16 * t + 12),
    }));
    const out = Buffer.alloc(headerLength + tables.reduce((n, t) => n + ((t.length + 3) & ~3), 0));
    ttc.copy(out, 0, dir, dir + headerLength);
    let at = headerLength;
    tables.forEach((t, k) => {
      ttc.copy(out, at, t.offset, t.offset + t.length);
      out.writeUInt32BE(at, 12 + 16 * k + 8);
      at += (t.length + 3) & ~3;
    });
    if ((fontkit.create(out) as fontkit.Font).postscriptName === postscriptName) return out;
  }
  throw new Error(`no face ${postscriptName}`);
}

for (const f of FONTS) {
  const face = extractFace(readFileSync(path.join(SOURCE_DIR, f.collection)), f.face);
  const subset = await subsetFont(face, f.chars, {
    targetFormat: 'sfnt',
    // Horizontal text, each character its own glyph: no vertical forms, no layout tables.
    noLayoutClosure: true,
    dropTables: ['GSUB', 'GPOS', 'BASE', 'VORG', 'vhea', 'vmtx'],
    // Keep the copyright, trademark and licence records inside the font (OFL condition 2).
    preserveNameIds: [0, 1, 2, 3, 4, 5, 6, 7, 13, 14],
  });
  const font = fontkit.create(subset) as fontkit.Font;
  const missing = [...f.chars].filter((c) => !font.hasGlyphForCodePoint(c.codePointAt(0)!));
  if (missing.length > 0) throw new Error(`${f.out} lacks ${missing.join('')}`);
  writeFileSync(path.join(OUT_DIR, f.out), subset);
  process.stdout.write(`${f.out}: ${font.postscriptName}, ${font.numGlyphs} glyphs for ${f.chars.length} characters, ${subset.length} bytes\n`);
}
