import { explainHold, noStepDuringVoting, type HoldReason } from '../../../server/live/gate.ts';
import type { Turnout } from './types.ts';

/**
 * The live view's words for the k-rule (server/live/gate.ts owns the rule): what it is, and why the
 * chart is behind 收回 right now. Never "收回满 k 张后显示" when k are in and the 2k rule is what holds.
 */
export function ruleText(k: number): string {
  return (
    `为保护投票秘密，图表只在新收回至少 ${k} 张手机票、并且发出的手机二维码（含票条、补发）中还有至少 ${2 * k} 张未交回时才更新一次，` +
    '所以图表的票数会落后于「收回」，并且是一步一步跳动的；其余的票在测评结束时一并显示。纸质票由考察组录入，不推动图表更新。'
  );
}

/** Why the chart lags now, in one sentence; null when it is up to date. */
export function holdText(k: number, turnout: Turnout, snapshotCount: number | null): string | null {
  const reasons = explainHold({ k, issued: turnout.issued, paperIssued: turnout.paperIssued, returned: turnout.returned, paper: turnout.paper, snapshotCount });
  if (reasons.length === 0) return null;
  const few = reasons.find((r): r is Extract<HoldReason, { code: 'FEW_OUTSTANDING' }> => r.code === 'FEW_OUTSTANDING');
  const phoneTickets = turnout.issued - turnout.paperIssued;
  if (few) {
    if (snapshotCount === null && noStepDuringVoting(phoneTickets, k)) {
      return `本次发出的手机二维码共 ${phoneTickets} 张，少于 ${3 * k} 张：为保护投票秘密，测评期间不显示图表，测评结束时一并显示。`;
    }
    return `发出的手机二维码中只剩 ${Math.max(0, few.outstanding)} 张未交回，少于 ${2 * k} 张：为保护投票秘密，此时不再更新图表，测评结束时一并显示。`;
  }
  const phone = turnout.returned - turnout.paper;
  if (snapshotCount === null) {
    return `手机提交的票满 ${k} 张后显示（现在 ${phone} 张${turnout.paper > 0 ? `；另有纸质票 ${turnout.paper} 张，不计入这一步` : ''}），不满 ${k} 张时在测评结束时显示。`;
  }
  return `自上次更新以来新收回的手机票还不到 ${k} 张，满 ${k} 张后更新（纸质票不单独推动更新）。`;
}
