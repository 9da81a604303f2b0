import Papa from 'papaparse';
import type { ServiceDeps } from '../deps.ts';
import { DomainError } from '../errors.ts';
import type { Results } from '../counting/tally.ts';
import { recountComments } from '../counting/comments.ts';
import type { MeetingService } from '../meetings/meetings.service.ts';
import * as setupRepo from '../setup/setup.repository.ts';
import { findKeptComments } from '../meetings/meetings.repository.ts';
import { reportParagraph } from './paragraph.ts';
import { cellText, resultSheets, type Cell, type Sheet } from './sheets.ts';
import { summaryRow, summarySheet, type SummaryRow } from './summary.ts';
import type { CampaignSummary, ImportedReport, MeetingReport } from './reports.types.ts';
import { reportFromArchive } from './archive-report.ts';
import { xmlText } from '../shared/text.ts';
import type { ArchiveService } from '../archive/archive.service.ts';

export type { MeetingReport } from './reports.types.ts';

/** Reports read computeResults (through MeetingService.results) and nothing else, so they never disagree. */
export class ReportService {
  readonly #d: ServiceDeps;
  readonly #meetings: MeetingService;

  readonly #archive: ArchiveService;

  constructor(deps: ServiceDeps, meetings: MeetingService, archive: ArchiveService) {
    this.#d = deps;
    this.#meetings = meetings;
    this.#archive = archive;
  }

  /** The report of a meeting sealed on another Ceping, read from its imported archive. */
  async importedReport(id: number): Promise<ImportedReport> {
    const { archive, record } = await this.#archive.importedRecord(id);
    return { report: reportFromArchive(record), verified: archive.verified, problems: archive.problems, fingerprint: archive.fingerprint };
  }

  async meetingReport(id: number): Promise<MeetingReport> {
    const read = await this.#meetings.withResults(id);
    const meeting = read.meeting;
    // Not closed yet: results() refuses with the reason.
    const results = read.results ?? (await this.#meetings.results(id));
    // Kept at close in their report order; a meeting closed before they were kept reads its ballots.
    const kept = await findKeptComments(this.#d.db, id);
    const comments = kept !== null ? (JSON.parse(kept) as string[]) : await recountComments(this.#d.db, id, this.#d.pepper);
    return { meeting, results, paragraph: reportParagraph(results), comments };
  }

  async meetingSheets(id: number): Promise<{ report: MeetingReport; sheets: Sheet[] }> {
    const report = await this.meetingReport(id);
    const m = report.meeting;
    return { report, sheets: resultSheets({ unitName: m.unitName, township: m.township, year: m.year }, report.results, report.comments) };
  }

  async meetingXlsx(id: number): Promise<Buffer> {
    return toXlsx((await this.meetingSheets(id)).sheets);
  }

  async meetingCsv(id: number): Promise<Buffer> {
    return toCsv((await this.meetingSheets(id)).sheets);
  }

  /** One row per meeting of the year, with turnout and the headline rates of each part. */
  async campaignSummary(campaignId: number): Promise<CampaignSummary> {
    const campaign = await setupRepo.findCampaign(this.#d.db, campaignId);
    if (!campaign) throw new DomainError('NOT_FOUND');
    const rows: SummaryRow[] = (await this.#meetings.campaignWithResults(campaignId)).map(({ meeting, results }) => summaryRow(meeting, results));
    return { year: campaign.year, township: campaign.township, rows };
  }

  async campaignSummaryXlsx(campaignId: number): Promise<Buffer> {
    const s = await this.campaignSummary(campaignId);
    return toXlsx([summarySheet(s.rows)]);
  }
}

/**
 * The sheets as an Excel workbook. Every text goes through xmlText: exceljs writes strings into the XML
 * as they are, and one character XML cannot carry (U+FFFF in a comment, a control character in a name,
 * half of a pair cut off by a 31-character sheet name) makes Excel call the whole file damaged.
 */
export async function toXlsx(sheets: Sheet[]): Promise<Buffer> {
  // Loaded when first needed: exceljs is a large module, and most runs of the server never export.
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Ceping';
  for (const s of sheets) {
    const ws = wb.addWorksheet(xmlText(s.name).replace(/[\\/?*[\]:]/g, ''));
    ws.addRow(s.header.map(xmlText)).font = { bold: true };
    for (const r of s.rows) {
      // tenths / 1000 is the displayed one-decimal figure itself (62.5% → 0.625), so Excel's 0.0% shows the same text.
      const row = ws.addRow(r.map((c: Cell) => (c !== null && typeof c === 'object' ? c.percent.tenths / 1000 : typeof c === 'string' ? xmlText(c) : c)));
      r.forEach((c, i) => {
        if (c !== null && typeof c === 'object') row.getCell(i + 1).numFmt = '0.0%';
      });
    }
    ws.columns.forEach((col, i) => {
      col.width = Math.min(40, Math.max(8, ...[s.header[i] ?? '', ...s.rows.map((r) => cellText(r[i] ?? null))].map((x) => x.length * 2)));
    });
    ws.views = [{ state: 'frozen', ySplit: 1 }];
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** A cell that Excel would read as a formula (=, +, -, @) is written as text. */
export function csvSafe(text: string): string {
  return /^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?%?$/.test(text) ? `'${text}` : text;
}

export function toCsv(sheets: Sheet[]): Buffer {
  const parts = sheets.map((s) => Papa.unparse([[s.name], s.header, ...s.rows.map((r) => r.map((c) => csvSafe(cellText(c))))], { newline: '\r\n' }));
  // UTF-8 with a BOM, so Excel on a township laptop opens it in Chinese.
  return Buffer.from('\ufeff' + parts.join('\r\n\r\n') + '\r\n', 'utf8');
}
