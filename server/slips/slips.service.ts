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
export async function printSlips(roster: RosterService, now: () => Date, actorId: number, meetingId: number, count: number): Promise<PrintedSlips> {
  const slips = await roster.issueSlips(actorId, meetingId, count);
  const pdf = await renderSlipsPdf(slips, { entryUrl: `${roster.baseUrl}/v`, createdAt: now() });
  return { pdf, filename: SLIP_TEXT.filename(count) };
}
