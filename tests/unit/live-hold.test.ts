/**
 * The live view says why its chart lags, truthfully: the 2k rule is named when it is what holds the
 * chart back (a 12-person station with 6 returned), never "收回满 5 张后显示".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explainHold, holdReasons, shouldPublishSnapshot } from '../../server/live/gate.ts';
import { holdText, ruleText } from '../../admin-ui/src/lib/live-note.ts';

const turnout = (issued: number, returned: number, paper = 0, paperIssued = paper) => ({ expected: issued, present: issued, issued, returned, paper, paperIssued, reissued: 0 });

describe('why the live chart lags', () => {
  it('a 12-person station with 6 returned: the 2k rule, not "5 returned"', () => {
    const text = holdText(5, turnout(12, 6), null)!;
    expect(text).toBe('本次发出的手机二维码共 12 张，少于 15 张：为保护投票秘密，测评期间不显示图表，测评结束时一并显示。');
    expect(text).not.toContain('收回满');
  });

  it('a village: fewer than k phone ballots, then fewer than 2k still out, then fewer than k new', () => {
    expect(holdText(5, turnout(70, 3), null)).toBe('手机提交的票满 5 张后显示（现在 3 张），不满 5 张时在测评结束时显示。');
    expect(holdText(5, turnout(70, 4, 2), null)).toContain('现在 2 张；另有纸质票 2 张，不计入这一步');
    expect(holdText(5, turnout(70, 62), 60)).toBe('发出的手机二维码中只剩 8 张未交回，少于 10 张：为保护投票秘密，此时不再更新图表，测评结束时一并显示。');
    expect(holdText(5, turnout(70, 23), 20)).toBe('自上次更新以来新收回的手机票还不到 5 张，满 5 张后更新（纸质票不单独推动更新）。');
    expect(holdText(5, turnout(70, 20), 20)).toBeNull();
    // Paper forms handed out are not phone tickets: 70 issued of which 58 paper leaves 12 phone tickets.
    expect(holdText(5, turnout(70, 6, 0, 58), null)).toContain('本次发出的手机二维码共 12 张');
    expect(ruleText(5)).toContain('还有至少 10 张未交回');
  });

  it('property: as a meeting runs, the observer is told the 2k rule exactly when it holds, and nothing when the chart is current', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 8 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 8 }),
        fc.array(fc.boolean(), { maxLength: 70 }),
        (k, phoneTickets, paperForms, casts) => {
          const issued = phoneTickets + paperForms;
          let phone = 0;
          let paper = 0;
          let lastPhone = 0;
          let snapshotCount: number | null = null;
          for (const wantPaper of casts) {
            if (wantPaper && paper < paperForms) paper++;
            else if (!wantPaper && phone < phoneTickets) phone++;
            else continue;
            const returned = phone + paper;
            // The server's side (ballots.service #refreshLive): a step when the gate allows.
            if (shouldPublishSnapshot({ phone, lastPhone, phoneOutstanding: phoneTickets - phone, k })) {
              lastPhone = phone;
              snapshotCount = returned;
            }
            const seen = explainHold({ k, issued, paperIssued: paperForms, returned, paper, snapshotCount });
            if (snapshotCount === returned) {
              expect(seen).toEqual([]);
              continue;
            }
            expect(seen.length).toBeGreaterThan(0);
            const exact = holdReasons({ phone, lastPhone, phoneOutstanding: phoneTickets - phone, k });
            expect(seen.some((r) => r.code === 'FEW_OUTSTANDING')).toBe(exact.some((r) => r.code === 'FEW_OUTSTANDING'));
            // "Fewer than k new" is said only when it is true.
            if (seen.some((r) => r.code === 'FEWER_THAN_K_NEW')) expect(phone - lastPhone).toBeLessThan(k);
            expect(holdText(k, turnout(issued, returned, paper, paperForms), snapshotCount)).not.toBeNull();
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
