import type { ArchiveRecord } from '../archive/archive.schemas.ts';
import { quorumNeeded, quorumText } from '../meetings/lifecycle.ts';
import { reportParagraph } from './paragraph.ts';
import { computeResults, sumRows, tallyIncrements, type Results } from '../counting/tally.ts';
import type { NormalizedPackage } from '../ballots/validate-package.ts';
import type { MeetingReport } from './reports.types.ts';
import { commentsOf, orderComments } from '../counting/comments.ts';

/**
 * The report of a meeting sealed elsewhere, read from its archive: the same shape the print view
 * shows for a meeting of this server, with every figure taken from the signed record.
 */
export function reportFromArchive(record: ArchiveRecord): MeetingReport {
  const t = record.turnout;
  const results = resultsOf(record);
  const needed = quorumNeeded(record.unit.kind, t.expected);
  return {
    meeting: {
      id: record.meeting.id,
      unitId: 0,
      unitName: record.unit.name,
      unitKind: record.unit.kind,
      campaignId: 0,
      year: record.year,
      township: record.township,
      state: 'sealed',
      stateLabel: '已封存（导入的档案）',
      plannedAt: record.meeting.plannedAt,
      location: record.meeting.location,
      inspectionTeam: record.meeting.inspectionTeam,
      liveK: 0,
      projectorShowsDistributions: false,
      quorum: { needed, text: quorumText(record.unit.kind), met: t.present >= needed && t.present > 0 },
      quorumOverrideReason: record.meeting.quorumOverrideReason,
      turnout: { ...t, paperIssued: t.paperIssued ?? t.paper, reissued: t.reissued ?? 0 },
      signinStartedAt: record.meeting.signinStartedAt,
      votingOpenedAt: record.meeting.votingOpenedAt,
      votingClosedAt: record.meeting.votingClosedAt,
      sealedAt: record.meeting.sealedAt,
      keyFingerprint: record.meeting.keyFingerprint ?? null,
      compacted: true,
    },
    results,
    paragraph: reportParagraph(results),
    comments: orderComments(commentsOf(record.ballots), record.signer.fingerprint),
  };
}

/**
 * A version 2 file's results are shown as signed. A version 1 file rounded its percentages by an
 * older rule and has no ranks: its figures are recomputed from its ballots, whose counts verify
 * checked against the signed ones, so the page prints what the rule of today gives.
 */
function resultsOf(record: ArchiveRecord): Results {
  if (record.version !== 1) return record.results;
  try {
    const rows = sumRows(record.ballots.flatMap((b) => tallyIncrements(record.form, b as NormalizedPackage)));
    return computeResults(record.form, rows, record.turnout);
  } catch {
    return record.results;
  }
}
