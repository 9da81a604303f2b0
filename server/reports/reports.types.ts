import type { z } from 'zod';
import type { Results } from '../counting/tally.ts';
import type { Meeting } from '../meetings/meetings.schemas.ts';
import type { SummaryRow } from './summary.ts';

/**
 * What the report routes answer. Kept free of server-only imports so the admin pages can import these
 * types too: one declaration, read by the print view and checked by both builds.
 */

/** GET /api/meetings/:id/report */
export interface MeetingReport {
  meeting: z.infer<typeof Meeting>;
  results: Results;
  paragraph: string;
  /** Part E, in a keyed random order: unrelated to the order of casting. */
  comments: string[];
}

/** GET /api/campaigns/:id/summary */
export interface CampaignSummary {
  year: number;
  township: string;
  rows: SummaryRow[];
}

/** GET /api/imported-archives/:id/report: a meeting sealed on another Ceping, read from its archive. */
export interface ImportedReport {
  report: MeetingReport;
  /** Whether the archive verified (signature, hash, recount) when it was imported. */
  verified: boolean;
  problems: string[];
  /** The fingerprint of the key that signed it (not this server's). */
  fingerprint: string;
}
