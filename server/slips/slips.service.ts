import type { RosterService } from '../roster/roster.service.ts';
import { renderSlipsPdf } from './slips.pdf.ts';
import { SLIP_TEXT } from './slips.text.ts';

export interface PrintedSlips {
  pdf: Buffer;
  filename: string;
}

/**
 * Make count dormant slip tickets and lay them out for printing. The secrets exist only in the returned
 * file: nothing here logs or keeps them. A slip votes only after the desk activates it by its printed
 * serial at a sign-in, so a spare or lost one is harmless (see RosterService.printSlipTickets).
 */
export async function printSlips(roster: RosterService, now: () => Date, actorId: number, meetingId: number, count: number): Promise<PrintedSlips> {
  const slips = await roster.printSlipTickets(actorId, meetingId, count);
  const pdf = await renderSlipsPdf(slips, { entryUrl: `${roster.baseUrl}/v`, createdAt: now() });
  return { pdf, filename: SLIP_TEXT.filename(count) };
}
