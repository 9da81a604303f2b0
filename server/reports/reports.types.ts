import type { z } from 'zod';
import type * as S from './reports.schemas.ts';

/**
 * What the report routes answer, inferred from their schemas (reports.schemas.ts). Types only, so the
 * admin pages import them too: one declaration, read by the print view and checked by both builds.
 */

/** GET /api/meetings/:id/report */
export type MeetingReport = z.infer<typeof S.MeetingReport>;

/** GET /api/campaigns/:id/summary */
export type CampaignSummary = z.infer<typeof S.CampaignSummary>;

/** GET /api/imported-archives/:id/report */
export type ImportedReport = z.infer<typeof S.ImportedReport>;
