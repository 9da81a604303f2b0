/**
 * The k-anonymity gate of the live tally at its edges, with every expected value written out by hand
 * for k = 5 (or 8): exactly k new phone ballots publish, k − 1 do not; exactly 2k tickets still out
 * publish, 2k − 1 do not; and what an observer is told when the chart lags.
 */
import { describe, expect, it } from 'vitest';
import { explainHold, holdReasons, noStepDuringVoting, shouldPublishSnapshot } from '../../server/live/gate.ts';

describe('the gate', () => {
  it('publishes at exactly k new phone ballots with exactly 2k tickets still out, and holds one short of either', () => {
    expect(holdReasons({ phone: 5, lastPhone: 0, phoneOutstanding: 10, k: 5 })).toEqual([]);
    expect(shouldPublishSnapshot({ phone: 5, lastPhone: 0, phoneOutstanding: 10, k: 5 })).toBe(true);

    expect(holdReasons({ phone: 4, lastPhone: 0, phoneOutstanding: 10, k: 5 })).toEqual([{ code: 'FEWER_THAN_K_NEW', k: 5, newPhone: 4 }]);
    expect(shouldPublishSnapshot({ phone: 4, lastPhone: 0, phoneOutstanding: 10, k: 5 })).toBe(false);

    expect(holdReasons({ phone: 5, lastPhone: 0, phoneOutstanding: 9, k: 5 })).toEqual([{ code: 'FEW_OUTSTANDING', k: 5, outstanding: 9 }]);
    expect(shouldPublishSnapshot({ phone: 5, lastPhone: 0, phoneOutstanding: 9, k: 5 })).toBe(false);
  });

  it('counts new phone ballots from the last step, and names both rules when both hold', () => {
    expect(holdReasons({ phone: 12, lastPhone: 8, phoneOutstanding: 30, k: 5 })).toEqual([{ code: 'FEWER_THAN_K_NEW', k: 5, newPhone: 4 }]);
    expect(holdReasons({ phone: 13, lastPhone: 8, phoneOutstanding: 30, k: 5 })).toEqual([]);
    expect(holdReasons({ phone: 11, lastPhone: 8, phoneOutstanding: 2, k: 5 })).toEqual([
      { code: 'FEWER_THAN_K_NEW', k: 5, newPhone: 3 },
      { code: 'FEW_OUTSTANDING', k: 5, outstanding: 2 },
    ]);
    expect(shouldPublishSnapshot({ phone: 30, lastPhone: 0, phoneOutstanding: 0, k: 5 })).toBe(false);
  });

  it('no step during voting below 3k phone tickets', () => {
    expect(noStepDuringVoting(14, 5)).toBe(true);
    expect(noStepDuringVoting(15, 5)).toBe(false);
    expect(noStepDuringVoting(0, 1)).toBe(true);
    expect(noStepDuringVoting(3, 1)).toBe(false);
  });
});

describe('what an observer is told', () => {
  const view = { k: 5, issued: 70, paperIssued: 0, returned: 0, paper: 0, snapshotCount: null as number | null };

  it('nothing when the chart shows every ballot returned', () => {
    expect(explainHold({ ...view, returned: 0 })).toEqual([]);
    expect(explainHold({ ...view, returned: 20, snapshotCount: 20 })).toEqual([]);
    expect(explainHold({ ...view, returned: 25, paper: 3, snapshotCount: 25 })).toEqual([]);
  });

  it('before the first step: the phone ballots so far', () => {
    expect(explainHold({ ...view, returned: 3 })).toEqual([{ code: 'FEWER_THAN_K_NEW', k: 5, newPhone: 3 }]);
  });

  it('after a step: the phone ballots since', () => {
    expect(explainHold({ ...view, returned: 23, snapshotCount: 20 })).toEqual([{ code: 'FEWER_THAN_K_NEW', k: 5, newPhone: 3 }]);
  });

  it('the tickets still out are the phone tickets (issued less paper forms) not yet back', () => {
    // 70 issued, 4 of them paper forms: 66 phone tickets; 62 back (60 in the last step) leaves 4 out.
    expect(explainHold({ ...view, paperIssued: 4, returned: 62, snapshotCount: 60 })).toEqual([
      { code: 'FEWER_THAN_K_NEW', k: 5, newPhone: 2 },
      { code: 'FEW_OUTSTANDING', k: 5, outstanding: 4 },
    ]);
    // 20 issued, 8 paper forms out and 2 of them back, 5 phone ballots back: 12 − 5 = 7 phone tickets out.
    expect(explainHold({ ...view, issued: 20, paperIssued: 8, returned: 7, paper: 2 })).toEqual([
      { code: 'FEW_OUTSTANDING', k: 5, outstanding: 7 },
    ]);
  });

  it('paper ballots since the step make "new phone ballots" an upper bound, never below zero', () => {
    // k 8: the step held 3 ballots; 10 returned of which 8 paper. At most 2 phone ballots are new.
    expect(explainHold({ ...view, k: 8, returned: 10, paper: 8, paperIssued: 8, snapshotCount: 3 })).toEqual([{ code: 'FEWER_THAN_K_NEW', k: 8, newPhone: 2 }]);
  });

  it('when neither rule would hold on what it can see, it is the k new phone ballots, counted at most once', () => {
    // Step at 20, now 25 of which 2 paper: 23 phone, up to 5 of them new, 2k = 10 of 68 phone tickets out.
    expect(explainHold({ ...view, paperIssued: 2, returned: 25, paper: 2, snapshotCount: 20 })).toEqual([{ code: 'FEWER_THAN_K_NEW', k: 5, newPhone: 5 }]);
    // Step at 0 ballots (a published empty chart), 12 returned of which 4 paper: 8 phone ballots, not 12.
    expect(explainHold({ ...view, paperIssued: 4, returned: 12, paper: 4, snapshotCount: 0 })).toEqual([{ code: 'FEWER_THAN_K_NEW', k: 5, newPhone: 8 }]);
  });
});
