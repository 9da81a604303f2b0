import type { RosterService } from '../roster/roster.service.ts';
import { renderSlipsPdf } from './slips.pdf.ts';
import { SLIP_TEXT } from './slips.text.ts';

export interface PrintedSlips {
  pdf: Buffer;
  filename: string;
}

/**
 * Issue count slip credentials and lay them out for printing. The tokens exist only in the returned
 * file: nothing here logs or keeps them. A file that fails to render leaves unused slips behind, which
 * is harmless (issuing a slip adds no vote; see RosterService.issueSlips).
 */
export async function printSlips(roster: RosterService, actorId: number, meetingId: number, count: number): Promise<PrintedSlips> {
  const slips = await roster.issueSlips(actorId, meetingId, count);
  // The date is the PDF's metadata only; no rule reads it, so the app clock is not threaded through here.
  const pdf = await renderSlipsPdf(slips, { entryUrl: `${roster.baseUrl}/v`, createdAt: new Date() });
  return { pdf, filename: SLIP_TEXT.filename(count) };
}
