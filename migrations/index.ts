import type { Migration } from 'kysely';
import * as initial from './2026_11_26_1600_initial.ts';
import * as paperPending from './2026_11_26_1700_paper_pending.ts';
import * as sealedArchives from './2026_11_26_1800_sealed_archives.ts';
import * as ballotsWithoutSource from './2026_11_26_1900_ballots_without_source.ts';
import * as twoPhaseCredentials from './2026_11_29_1000_two_phase_credentials.ts';
import * as paperPreview from './2026_11_29_1100_paper_preview.ts';
import * as meetingTimers from './2026_11_29_1200_meeting_timers.ts';
import * as inspection from './2026_11_29_1300_inspection.ts';
import * as postgresBallotStorage from './2026_12_01_1000_postgres_ballot_storage.ts';

/** Every migration, by name. Listed statically so the server, the CLI and the tests load them the same way. */
export const migrations: Record<string, Migration> = {
  '2026_11_26_1600_initial': initial,
  '2026_11_26_1700_paper_pending': paperPending,
  '2026_11_26_1800_sealed_archives': sealedArchives,
  '2026_11_26_1900_ballots_without_source': ballotsWithoutSource,
  '2026_11_29_1000_two_phase_credentials': twoPhaseCredentials,
  '2026_11_29_1100_paper_preview': paperPreview,
  '2026_11_29_1200_meeting_timers': meetingTimers,
  '2026_11_29_1300_inspection': inspection,
  '2026_12_01_1000_postgres_ballot_storage': postgresBallotStorage,
};
