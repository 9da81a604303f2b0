import type { Footer, IParagraphOptions, Paragraph, Table, TextRun } from 'docx';
import type { ReportModel, ReportTable } from './report.model.ts';
import { xmlText } from '../shared/text.ts';

/** The `docx` library, loaded with the first report asked for: a server that makes none never holds it (bench/README.md). */
type Docx = typeof import('docx');

/**
 * The 考察报告 as a Word file, laid out as a township document is (GB/T 9704 conventions, as far as
 * Word on a township laptop allows): A4, margins 37/35/28/26 mm, the title in 二号 宋体 bold, the
 * body in 三号 仿宋 at 22 lines a page, 一级标题 in 黑体 and 二级标题 in 楷体, page numbers "— 1 —"
 * in 四号 宋体 at the outer edge. Only fonts Windows ships (仿宋, 黑体, 楷体, 宋体, Times New Roman).
 * Built with the `docx` library (MIT) from the one ReportModel the print view also shows.
 */

const MM = 1440 / 25.4; // twips per millimetre
const twips = (mm: number) => Math.round(mm * MM);
/** Half-points: 二号 22 pt, 三号 16 pt, 四号 14 pt, 小四 12 pt, 五号 10.5 pt. */
const SIZE = { erhao: 44, sanhao: 32, sihao: 28, xiaosi: 24, wuhao: 21 } as const;
/** 28.95 pt exact: 22 lines in the 225 mm type area. */
const BODY_LINE = 579;
const LATIN = 'Times New Roman';
const font = (eastAsia: string) => ({ ascii: LATIN, hAnsi: LATIN, eastAsia, cs: LATIN });
const FANGSONG = font('仿宋');
const HEITI = font('黑体');
const KAITI = font('楷体');
const SONGTI = font('宋体');
const LANG = { value: 'zh-CN', eastAsia: 'zh-CN' };

function run(d: Docx, text: string, o: { font?: ReturnType<typeof font>; size?: number; bold?: boolean } = {}): TextRun {
  return new d.TextRun({ text: xmlText(text), font: o.font ?? FANGSONG, size: o.size ?? SIZE.sanhao, bold: o.bold ?? false, language: LANG });
}

/** LineRuleType.EXACT is the string 'exact' (kept literal, so this needs no library). */
const bodySpacing = { line: BODY_LINE, lineRule: 'exact', before: 0, after: 0 } as const;

function body(d: Docx, text: string, extra: Partial<IParagraphOptions> = {}): Paragraph {
  return new d.Paragraph({ children: [run(d, text)], indent: { firstLine: 2 * 320 }, spacing: bodySpacing, alignment: d.AlignmentType.JUSTIFIED, ...extra });
}

function heading1(d: Docx, text: string): Paragraph {
  return new d.Paragraph({ children: [run(d, text, { font: HEITI })], indent: { firstLine: 2 * 320 }, spacing: bodySpacing, keepNext: true });
}

function heading2(d: Docx, text: string): Paragraph {
  return new d.Paragraph({ children: [run(d, text, { font: KAITI })], indent: { firstLine: 2 * 320 }, spacing: bodySpacing, keepNext: true });
}

function cellParagraph(d: Docx, text: string, o: { bold?: boolean; left?: boolean }): Paragraph {
  return new d.Paragraph({
    children: [run(d, text, { size: SIZE.wuhao, bold: o.bold ?? false, font: o.bold ? HEITI : FANGSONG })],
    alignment: o.left ? d.AlignmentType.LEFT : d.AlignmentType.CENTER,
    spacing: { line: 300, lineRule: d.LineRuleType.AT_LEAST, before: 20, after: 20 },
  });
}

/** The type area's width: 210 − 28 − 26 mm. */
const TYPE_WIDTH = twips(156);

function columnWidths(weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const widths = weights.map((w) => Math.floor((TYPE_WIDTH * w) / sum));
  widths[0]! += TYPE_WIDTH - widths.reduce((a, b) => a + b, 0);
  return widths;
}

function table(d: Docx, t: ReportTable): (Paragraph | Table)[] {
  const cw = columnWidths(t.widths);
  const header = new d.TableRow({
    tableHeader: true,
    cantSplit: true,
    children: t.header.map((h, i) => new d.TableCell({ children: [cellParagraph(d, h, { bold: true, left: i === 0 && t.header.length > 3 })], verticalAlign: d.VerticalAlignTable.CENTER, width: { size: cw[i]!, type: d.WidthType.DXA } })),
  });
  const rows = t.rows.map(
    (r) =>
      new d.TableRow({
        cantSplit: true,
        children: r.map((c, i) => new d.TableCell({ children: [cellParagraph(d, c, { left: i === 0 && t.header.length > 3 })], verticalAlign: d.VerticalAlignTable.CENTER, width: { size: cw[i]!, type: d.WidthType.DXA } })),
      }),
  );
  const out: (Paragraph | Table)[] = [
    new d.Paragraph({ children: [run(d, t.caption, { size: SIZE.xiaosi, font: HEITI })], alignment: d.AlignmentType.CENTER, spacing: { before: 120, after: 60 }, keepNext: true }),
    new d.Table({ rows: [header, ...rows], width: { size: TYPE_WIDTH, type: d.WidthType.DXA }, columnWidths: columnWidths(t.widths), layout: d.TableLayoutType.FIXED }),
  ];
  if (t.note) out.push(new d.Paragraph({ children: [run(d, t.note, { size: SIZE.wuhao })], spacing: { before: 60, after: 120 } }));
  return out;
}

function pageFooter(d: Docx, align: 'left' | 'right'): Footer {
  return new d.Footer({
    children: [
      new d.Paragraph({
        alignment: align === 'right' ? d.AlignmentType.RIGHT : d.AlignmentType.LEFT,
        indent: align === 'right' ? { right: 320 } : { left: 320 },
        children: [new d.TextRun({ children: ['— ', d.PageNumber.CURRENT, ' —'], font: SONGTI, size: SIZE.sihao, language: LANG })],
      }),
    ],
  });
}

/** The report's Word file. */
export async function reportDocx(model: ReportModel): Promise<Buffer> {
  const d: Docx = await import('docx');
  const children: (Paragraph | Table)[] = [
    new d.Paragraph({
      children: [run(d, model.title, { font: SONGTI, size: SIZE.erhao, bold: true })],
      alignment: d.AlignmentType.CENTER,
      spacing: { line: 700, lineRule: d.LineRuleType.EXACT, after: BODY_LINE },
    }),
    body(d, model.intro),
  ];
  for (const s of model.sections) {
    children.push(heading1(d, s.heading));
    for (const p of s.paragraphs) children.push(body(d, p));
    for (const sub of s.subsections) {
      children.push(heading2(d, sub.heading));
      for (const p of sub.paragraphs) children.push(body(d, p));
      for (const t of sub.tables) children.push(...table(d, t));
    }
  }
  children.push(
    new d.Paragraph({ children: [], spacing: bodySpacing }),
    new d.Paragraph({ children: [run(d, model.signature.team)], alignment: d.AlignmentType.RIGHT, indent: { right: 4 * 320 }, spacing: bodySpacing }),
    new d.Paragraph({ children: [run(d, model.signature.date)], alignment: d.AlignmentType.RIGHT, indent: { right: 4 * 320 }, spacing: bodySpacing }),
    new d.Paragraph({ children: [], spacing: bodySpacing }),
    new d.Paragraph({ children: [run(d, `附注：${model.source.text}`, { size: SIZE.xiaosi })], spacing: { line: 360, lineRule: d.LineRuleType.AT_LEAST } }),
  );

  const doc = new d.Document({
    creator: 'Ceping',
    title: xmlText(model.title),
    description: xmlText(model.source.text),
    evenAndOddHeaderAndFooters: true,
    styles: { default: { document: { run: { font: FANGSONG, size: SIZE.sanhao, language: LANG } } } },
    sections: [
      {
        properties: {
          page: {
            size: { width: twips(210), height: twips(297) },
            margin: { top: twips(37), bottom: twips(35), left: twips(28), right: twips(26), header: twips(15), footer: twips(20) },
          },
        },
        // Single pages carry the number on the right, double pages on the left (GB/T 9704 §7.5).
        footers: { default: pageFooter(d, 'right'), even: pageFooter(d, 'left') },
        children,
      },
    ],
  });
  return d.Packer.toBuffer(doc);
}
