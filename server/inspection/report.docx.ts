import {
  AlignmentType, Document, Footer, LineRuleType, Packer, PageNumber, Paragraph, Table, TableCell, TableLayoutType, TableRow, TextRun, VerticalAlignTable, WidthType,
  type IParagraphOptions,
} from 'docx';
import type { ReportModel, ReportTable } from './report.model.ts';

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

/** Characters XML 1.0 cannot hold (C0 controls, lone surrogates): Word refuses a file with one, so they are dropped. */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function xmlSafe(text: string): string {
  return text.replace(NOT_XML, '');
}

function run(text: string, o: { font?: ReturnType<typeof font>; size?: number; bold?: boolean } = {}): TextRun {
  return new TextRun({ text: xmlSafe(text), font: o.font ?? FANGSONG, size: o.size ?? SIZE.sanhao, bold: o.bold ?? false, language: LANG });
}

const bodySpacing = { line: BODY_LINE, lineRule: LineRuleType.EXACT, before: 0, after: 0 };

function body(text: string, extra: Partial<IParagraphOptions> = {}): Paragraph {
  return new Paragraph({ children: [run(text)], indent: { firstLine: 2 * 320 }, spacing: bodySpacing, alignment: AlignmentType.JUSTIFIED, ...extra });
}

function heading1(text: string): Paragraph {
  return new Paragraph({ children: [run(text, { font: HEITI })], indent: { firstLine: 2 * 320 }, spacing: bodySpacing, keepNext: true });
}

function heading2(text: string): Paragraph {
  return new Paragraph({ children: [run(text, { font: KAITI })], indent: { firstLine: 2 * 320 }, spacing: bodySpacing, keepNext: true });
}

function cellParagraph(text: string, o: { bold?: boolean; left?: boolean }): Paragraph {
  return new Paragraph({
    children: [run(text, { size: SIZE.wuhao, bold: o.bold ?? false, font: o.bold ? HEITI : FANGSONG })],
    alignment: o.left ? AlignmentType.LEFT : AlignmentType.CENTER,
    spacing: { line: 300, lineRule: LineRuleType.AT_LEAST, before: 20, after: 20 },
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

function table(t: ReportTable): (Paragraph | Table)[] {
  const cw = columnWidths(t.widths);
  const header = new TableRow({
    tableHeader: true,
    cantSplit: true,
    children: t.header.map((h, i) => new TableCell({ children: [cellParagraph(h, { bold: true, left: i === 0 && t.header.length > 3 })], verticalAlign: VerticalAlignTable.CENTER, width: { size: cw[i]!, type: WidthType.DXA } })),
  });
  const rows = t.rows.map(
    (r) =>
      new TableRow({
        cantSplit: true,
        children: r.map((c, i) => new TableCell({ children: [cellParagraph(c, { left: i === 0 && t.header.length > 3 })], verticalAlign: VerticalAlignTable.CENTER, width: { size: cw[i]!, type: WidthType.DXA } })),
      }),
  );
  const out: (Paragraph | Table)[] = [
    new Paragraph({ children: [run(t.caption, { size: SIZE.xiaosi, font: HEITI })], alignment: AlignmentType.CENTER, spacing: { before: 120, after: 60 }, keepNext: true }),
    new Table({ rows: [header, ...rows], width: { size: TYPE_WIDTH, type: WidthType.DXA }, columnWidths: columnWidths(t.widths), layout: TableLayoutType.FIXED }),
  ];
  if (t.note) out.push(new Paragraph({ children: [run(t.note, { size: SIZE.wuhao })], spacing: { before: 60, after: 120 } }));
  return out;
}

function pageFooter(align: (typeof AlignmentType)[keyof typeof AlignmentType]): Footer {
  return new Footer({
    children: [
      new Paragraph({
        alignment: align,
        indent: align === AlignmentType.RIGHT ? { right: 320 } : { left: 320 },
        children: [new TextRun({ children: ['— ', PageNumber.CURRENT, ' —'], font: SONGTI, size: SIZE.sihao, language: LANG })],
      }),
    ],
  });
}

/** The report's Word file. */
export async function reportDocx(model: ReportModel): Promise<Buffer> {
  const children: (Paragraph | Table)[] = [
    new Paragraph({
      children: [run(model.title, { font: SONGTI, size: SIZE.erhao, bold: true })],
      alignment: AlignmentType.CENTER,
      spacing: { line: 700, lineRule: LineRuleType.EXACT, after: BODY_LINE },
    }),
    body(model.intro),
  ];
  for (const s of model.sections) {
    children.push(heading1(s.heading));
    for (const p of s.paragraphs) children.push(body(p));
    for (const sub of s.subsections) {
      children.push(heading2(sub.heading));
      for (const p of sub.paragraphs) children.push(body(p));
      for (const t of sub.tables) children.push(...table(t));
    }
  }
  children.push(
    new Paragraph({ children: [], spacing: bodySpacing }),
    new Paragraph({ children: [run(model.signature.team)], alignment: AlignmentType.RIGHT, indent: { right: 4 * 320 }, spacing: bodySpacing }),
    new Paragraph({ children: [run(model.signature.date)], alignment: AlignmentType.RIGHT, indent: { right: 4 * 320 }, spacing: bodySpacing }),
    new Paragraph({ children: [], spacing: bodySpacing }),
    new Paragraph({ children: [run(`附注：${model.source.text}`, { size: SIZE.xiaosi })], spacing: { line: 360, lineRule: LineRuleType.AT_LEAST } }),
  );

  const doc = new Document({
    creator: 'Ceping',
    title: xmlSafe(model.title),
    description: xmlSafe(model.source.text),
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
        footers: { default: pageFooter(AlignmentType.RIGHT), even: pageFooter(AlignmentType.LEFT) },
        children,
      },
    ],
  });
  return Packer.toBuffer(doc);
}
