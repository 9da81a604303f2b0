import { readFileSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { serverFile } from '../paths.ts';
import { qrRuns } from './slips.qr.ts';
import { SLIP_TEXT } from './slips.text.ts';

/** What one slip prints: the QR of url, the short code for typing in, and the serial the desk types to hand it out. */
export interface SlipCredential {
  shortCode: string;
  url: string;
  serial: number | null;
}

export interface SlipsPdfOptions {
  /** Where a phone that cannot scan types the short code, e.g. http://192.168.1.5:8080/v */
  entryUrl: string;
  /** The file's creation date (metadata only). */
  createdAt: Date;
}

const COLUMNS = 2;
const ROWS = 6;
const SLIPS_PER_PAGE = COLUMNS * ROWS;

// Points (1/72 in). A4, with room at the page edges for a printer's unprintable margin.
const PAGE_W = 595.28;
const PAGE_H = 841.89;
const MARGIN_X = 18;
const MARGIN_Y = 28;
const SLIP_W = (PAGE_W - 2 * MARGIN_X) / COLUMNS;
const SLIP_H = (PAGE_H - 2 * MARGIN_Y) / ROWS;
/** Inside each cut line; about the 4-module quiet zone a QR needs at QR_SIDE. */
const PAD = 11;
/** The symbol's side, whatever its version (a version 4 code gets 2.7 pt ≈ 0.95 mm modules). */
const QR_SIDE = 88;
const CODE_SIZE = 18;
const TEXT_X = PAD + QR_SIDE + 14;
const TEXT_W = SLIP_W - TEXT_X - PAD;
const TITLE_SIZE = 13;
const INSTRUCTION_SIZE = 10;
const INSTRUCTION_LEADING = 14;
const ADDRESS_SIZE = 10;
const NOTE_SIZE = 7.5;
const CUT_ARM = 7;

const FONT_FILES = {
  regular: serverFile('slips', 'fonts', 'slip-regular.otf'),
  bold: serverFile('slips', 'fonts', 'slip-bold.otf'),
};
let fontBytes: Record<keyof typeof FONT_FILES, Buffer> | undefined;
/**
 * The committed subsets of Noto Sans CJK (fonts/OFL.txt), the only fonts a slip uses: every glyph is
 * embedded, so no viewer or printer substitutes its own.
 */
export function slipFonts(): Record<keyof typeof FONT_FILES, Buffer> {
  return (fontBytes ??= { regular: readFileSync(FONT_FILES.regular), bold: readFileSync(FONT_FILES.bold) });
}

/** Lay phrases out in lines of at most width (current font and size), breaking only between phrases. */
function wrapPhrases(doc: PDFKit.PDFDocument, phrases: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const phrase of phrases) {
    if (line && doc.widthOfString(line + phrase) > width) {
      lines.push(line);
      line = '';
    }
    line += phrase;
  }
  if (line) lines.push(line);
  return lines;
}

/** The address as typed: ASCII (a host in punycode), and without http://, which browsers assume. */
export function typedAddress(url: string): string {
  const href = new URL(url).href.replace(/\/$/, '');
  return href.startsWith('http://') ? href.slice('http://'.length) : href;
}

/** The largest size not above max at which text fits width, so a long address shrinks instead of running over the cut. */
function fittingSize(doc: PDFKit.PDFDocument, text: string, width: number, max: number): number {
  doc.fontSize(max);
  const w = doc.widthOfString(text);
  return w <= width ? max : Math.max(5, (max * width) / w);
}

/**
 * A4 pages of 12 slips (2 × 6) with cut marks. Each QR is drawn as filled rectangles, one per run of dark
 * modules, in module units under one transform: small integers in the stream, one fill per code.
 * Slips may be printed while voting is open, so the work yields to the event loop after every page
 * rather than holding up ballots for the second or so that 500 slips take.
 */
export async function renderSlipsPdf(slips: readonly SlipCredential[], opts: SlipsPdfOptions): Promise<Buffer> {
  if (slips.length === 0) throw new RangeError('no slips to print'); // a PDF needs a page; SlipsBody asks for 1 or more
  // Loaded when first needed: pdfkit is a large module, and slips are printed once or twice a meeting.
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({
    size: 'A4',
    margin: 0,
    autoFirstPage: false,
    info: { Title: SLIP_TEXT.title, Creator: 'ceping', CreationDate: opts.createdAt },
  });
  const done = new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const fonts = slipFonts();
  doc.registerFont('regular', fonts.regular);
  doc.registerFont('bold', fonts.bold);
  doc.font('regular').fontSize(INSTRUCTION_SIZE);
  const instruction = wrapPhrases(doc, SLIP_TEXT.instruction, TEXT_W);
  const address = typedAddress(opts.entryUrl);
  const addressSize = fittingSize(doc.font('bold'), address, TEXT_W, ADDRESS_SIZE);

  const pages = Math.ceil(slips.length / SLIPS_PER_PAGE);
  for (let p = 0; p < pages; p++) {
    if (p > 0) await nextTurn();
    doc.addPage();
    const onPage = slips.slice(p * SLIPS_PER_PAGE, (p + 1) * SLIPS_PER_PAGE);
    onPage.forEach((slip, i) => {
      const x = MARGIN_X + (i % COLUMNS) * SLIP_W;
      const y = MARGIN_Y + Math.floor(i / COLUMNS) * SLIP_H;
      drawQr(doc, slip.url, x + PAD, y + PAD);

      doc.font('bold').fontSize(CODE_SIZE).fillColor('black');
      const codeW = doc.widthOfString(slip.shortCode);
      doc.text(slip.shortCode, x + PAD + (QR_SIDE - codeW) / 2, y + PAD + QR_SIDE + 3, { lineBreak: false });

      let ty = y + PAD - 1;
      doc.font('bold').fontSize(TITLE_SIZE).text(SLIP_TEXT.title, x + TEXT_X, ty, { lineBreak: false });
      if (slip.serial !== null) {
        const serial = SLIP_TEXT.serial(slip.serial);
        doc.fontSize(TITLE_SIZE).text(serial, x + SLIP_W - PAD - doc.widthOfString(serial), ty, { lineBreak: false });
      }
      ty += TITLE_SIZE + 9;
      doc.font('regular').fontSize(INSTRUCTION_SIZE);
      for (const line of instruction) {
        doc.text(line, x + TEXT_X, ty, { lineBreak: false });
        ty += INSTRUCTION_LEADING;
      }
      doc.font('bold').fontSize(addressSize).text(address, x + TEXT_X, ty + 3, { lineBreak: false });
      doc.font('regular').fontSize(NOTE_SIZE).fillColor('#555555').text(SLIP_TEXT.oneUse, x + TEXT_X, y + SLIP_H - PAD - NOTE_SIZE - 2, { lineBreak: false });
    });
    drawCutMarks(doc, Math.ceil(onPage.length / COLUMNS), onPage.length < COLUMNS ? onPage.length : COLUMNS);
    doc.font('regular').fontSize(7).fillColor('#555555');
    const footer = SLIP_TEXT.footer(p + 1, pages);
    // Right-aligned, clear of the crosses under the last row.
    doc.text(footer, PAGE_W - MARGIN_X - CUT_ARM - 6 - doc.widthOfString(footer), PAGE_H - MARGIN_Y + 5, { lineBreak: false });
  }
  doc.end();
  return done;
}

function drawQr(doc: PDFKit.PDFDocument, url: string, x: number, y: number): void {
  const { size, runs } = qrRuns(url);
  const m = QR_SIDE / size;
  doc.save().transform(m, 0, 0, m, x, y);
  for (const r of runs) doc.rect(r.x, r.y, r.w, 1);
  doc.fill('black').restore();
}

/** Thin dashed guides along every cut, and solid crosses where cuts meet, reaching past the outer edge. */
function drawCutMarks(doc: PDFKit.PDFDocument, rows: number, columns: number): void {
  const left = MARGIN_X;
  const top = MARGIN_Y;
  const right = MARGIN_X + columns * SLIP_W;
  const bottom = MARGIN_Y + rows * SLIP_H;
  doc.save().lineWidth(0.3).strokeColor('#999999').dash(2, { space: 2 });
  for (let c = 0; c <= columns; c++) doc.moveTo(left + c * SLIP_W, top).lineTo(left + c * SLIP_W, bottom);
  for (let r = 0; r <= rows; r++) doc.moveTo(left, top + r * SLIP_H).lineTo(right, top + r * SLIP_H);
  doc.stroke().undash().lineWidth(0.6).strokeColor('black');
  for (let c = 0; c <= columns; c++) {
    for (let r = 0; r <= rows; r++) {
      const cx = left + c * SLIP_W;
      const cy = top + r * SLIP_H;
      doc.moveTo(cx - CUT_ARM, cy).lineTo(cx + CUT_ARM, cy).moveTo(cx, cy - CUT_ARM).lineTo(cx, cy + CUT_ARM);
    }
  }
  doc.stroke().restore();
}
