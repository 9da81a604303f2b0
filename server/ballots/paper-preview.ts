import { z } from 'zod';
import { ABSTAIN, type BallotPackage, type Form, type FormPart } from '../forms/form.schemas.ts';
import { collectRecommendations, quotaOverrun, validatePackage, type PackageProblem } from './validate-package.ts';

/**
 * What each part of a typed paper package will count as, said before anyone confirms it: the rules
 * validatePackage applies to paper (a part over its quota is void, a blank subject is 弃权, a part can
 * be marked void), with this ballot's figures in one sentence. The paper page shows it while typing,
 * and the server stores it with the pending package so that the second person reads the same words.
 */
export const PaperPartPreview = z.object({
  part: z.string(),
  title: z.string(),
  /** void: 废票; abstain: the whole part blank, 弃权; partly-abstain: some subjects blank; valid: counted as marked. */
  outcome: z.enum(['void', 'abstain', 'partly-abstain', 'valid']),
  reason: z.enum(['MARKED_VOID', 'OVER_QUOTA', 'OVER_PICKS', 'VOID', 'BLANK', 'SOME_BLANK']).nullable(),
  /** 废票 / 弃权 / 部分弃权 / 有效 */
  label: z.string(),
  /** The rule, in one sentence with this ballot's figures; empty when the part counts as marked. */
  rule: z.string(),
});
export type PaperPartPreview = z.infer<typeof PaperPartPreview>;

export type PaperPreview = { ok: true; parts: PaperPartPreview[] } | { ok: false; problem: PackageProblem };

export interface PreviewOptions {
  /**
   * A package already normalized has lost why a part is void (marked, or over its quota): say only
   * that it is void. Typed input knows the reason.
   */
  normalized?: boolean;
}

const LABEL = { void: '废票', abstain: '弃权', 'partly-abstain': '部分弃权', valid: '有效' } as const;
const REST = '其余部分照常计入。';

/** The preview of a paper package as typed; refused exactly when validatePackage refuses it. */
export function previewPaper(form: Form, input: BallotPackage, opts: PreviewOptions = {}): PaperPreview {
  const check = validatePackage(form, input, 'paper');
  if (!check.ok) return check;
  return { ok: true, parts: form.parts.map((part) => previewPart(part, input[part.key], check.pkg[part.key], opts)) };
}

function previewPart(part: FormPart, typed: unknown, counted: unknown, opts: PreviewOptions): PaperPartPreview {
  const base = { part: part.key, title: part.title };
  const make = (outcome: PaperPartPreview['outcome'], reason: PaperPartPreview['reason'], rule: string): PaperPartPreview => ({
    ...base, outcome, reason, label: LABEL[outcome], rule,
  });
  const isVoid = (a: unknown) => typeof a === 'object' && a !== null && 'void' in a;

  if (isVoid(typed)) {
    return opts.normalized
      ? make('void', 'VOID', `这一部分按废票计（录入时标为作废，或超过限选人数），不计入任何一项；${REST}`)
      : make('void', 'MARKED_VOID', `录入时标为「此部分作废」：这一部分按废票计，不计入任何一项；${REST}`);
  }
  if (part.kind === 'comment') return make('valid', null, '');

  if (part.kind === 'recommend') {
    const names = typed === undefined ? { picks: [], writeIns: [] } : collectRecommendations(part, typed, () => {
      throw new Error('unreachable: validatePackage accepted this answer');
    });
    const total = names.picks.length + names.writeIns.length;
    if (isVoid(counted)) {
      return make('void', 'OVER_PICKS', `最多推荐 ${part.maxPicks} 人，这张票推荐了 ${total} 人：超过限选人数的部分整部分按废票计；${REST}`);
    }
    if (total === 0) return make('abstain', 'BLANK', '没有推荐任何人：仍是有效票，计为弃权（不推荐任何人）。');
    return make('valid', null, '');
  }

  const grades = (typeof typed === 'object' && typed !== null && 'grades' in typed ? (typed as { grades: Record<string, string> }).grades : {}) ?? {};
  if (isVoid(counted)) {
    const over = quotaOverrun(part, grades);
    return make(
      'void', 'OVER_QUOTA',
      over
        ? `「${over.label}」最多可选 ${over.limit} 人，这张票选了 ${over.used} 人：超过名额的部分整部分按废票计；${REST}`
        : `超过名额：这一部分按废票计；${REST}`,
    );
  }
  const blank = part.subjects.filter((s) => grades[s.key] === undefined || grades[s.key] === ABSTAIN).length;
  const word = part.abstainLabel ? `「${part.abstainLabel}」（弃权）` : '「弃权」';
  if (blank === part.subjects.length) return make('abstain', 'BLANK', `整部分空白：仍是有效票，${blank} 项都计为${word}。`);
  if (blank > 0) return make('partly-abstain', 'SOME_BLANK', `${blank} 项空白：空白的一项计为${word}，仍是有效票。`);
  return make('valid', null, '');
}
