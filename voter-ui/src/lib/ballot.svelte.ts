import {
  answersFor,
  commentText,
  findProblems,
  normalizeName,
  partProblems,
  quotaRefusal,
  quotaStatus,
  ratingAnswer,
  recommendAnswer,
  recommendCount,
  toPackage,
  type Answers,
  type Problem,
  type QuotaStatus,
} from './ballot-rules.ts';
import type { BallotPackage, Form, FormPart, PartKey, RatingPart, RecommendPart } from './types.ts';

export type Change = { ok: true; note?: string } | { ok: false; message: string };

/** One voter's choices on one form. Every change is checked here, so the page cannot hold an over-quota ballot. */
export class Ballot {
  readonly form: Form;
  answers: Answers = $state({});
  readonly problems: Problem[] = $derived.by(() => findProblems(this.form, this.answers));
  readonly #onchange: (answers: Answers) => void;

  constructor(form: Form, stored: unknown = null, onchange: (answers: Answers) => void = () => {}) {
    this.form = form;
    this.answers = answersFor(form, stored);
    this.#onchange = onchange;
  }

  part(key: PartKey): FormPart {
    const p = this.form.parts.find((x) => x.key === key);
    if (!p) throw new Error('unknown part');
    return p;
  }

  gradeOf(part: RatingPart, subjectKey: string): string | undefined {
    return ratingAnswer(this.answers, part).grades[subjectKey];
  }

  quotas(part: RatingPart): QuotaStatus[] {
    return quotaStatus(part, ratingAnswer(this.answers, part).grades);
  }

  problemsIn(part: FormPart): Problem[] {
    return partProblems(this.form, part, this.answers);
  }

  /** Subjects answered / subjects to answer (a recommend or comment part counts as one, always done). */
  progress(part: FormPart): { done: number; total: number } {
    if (part.kind !== 'rating') return { done: 1, total: 1 };
    const { grades } = ratingAnswer(this.answers, part);
    return { done: part.subjects.filter((s) => grades[s.key] !== undefined).length, total: part.subjects.length };
  }

  choose(part: RatingPart, subjectKey: string, grade: string): Change {
    const answer = this.#rating(part);
    const refusal = quotaRefusal(part, answer.grades, subjectKey, grade);
    if (refusal) return { ok: false, message: refusal };
    answer.grades[subjectKey] = grade;
    this.#changed();
    return { ok: true };
  }

  picks(part: RecommendPart): string[] {
    return recommendAnswer(this.answers, part).picks;
  }

  writeIns(part: RecommendPart): string[] {
    return recommendAnswer(this.answers, part).writeIns;
  }

  recommended(part: RecommendPart): number {
    return recommendCount(recommendAnswer(this.answers, part));
  }

  togglePick(part: RecommendPart, candidateKey: string): Change {
    const answer = this.#recommend(part);
    const i = answer.picks.indexOf(candidateKey);
    if (i >= 0) answer.picks.splice(i, 1);
    else if (recommendCount(answer) >= part.maxPicks) return { ok: false, message: full(part) };
    else answer.picks.push(candidateKey);
    this.#changed();
    return { ok: true };
  }

  addWriteIn(part: RecommendPart, typed: string): Change {
    const name = normalizeName(typed);
    if (name === '') return { ok: false, message: '请先填写姓名' };
    if (name.length > 30) return { ok: false, message: '姓名太长，请核对' };
    const answer = this.#recommend(part);
    const listed = part.candidates.find((c) => c.name === name);
    if (listed) {
      if (answer.picks.indexOf(listed.key) >= 0) return { ok: false, message: `${name} 已经推荐过了` };
      if (recommendCount(answer) >= part.maxPicks) return { ok: false, message: full(part) };
      answer.picks.push(listed.key);
      this.#changed();
      return { ok: true, note: `${name} 在候选名单中，已为您在名单中选中` };
    }
    if (answer.writeIns.indexOf(name) >= 0) return { ok: false, message: `${name} 已经推荐过了` };
    if (recommendCount(answer) >= part.maxPicks) return { ok: false, message: full(part) };
    answer.writeIns.push(name);
    this.#changed();
    return { ok: true };
  }

  removeWriteIn(part: RecommendPart, name: string): void {
    const answer = this.#recommend(part);
    const i = answer.writeIns.indexOf(name);
    if (i >= 0) answer.writeIns.splice(i, 1);
    this.#changed();
  }

  textOf(part: FormPart): string {
    return commentText(this.answers, part);
  }

  setText(part: FormPart, text: string): void {
    if (part.kind !== 'comment') return;
    this.answers[part.key] = { text: text.slice(0, part.maxLength) };
    this.#changed();
  }

  toPackage(): BallotPackage {
    return toPackage(this.form, this.answers);
  }

  /** A plain copy for storage. */
  snapshot(): Answers {
    return $state.snapshot(this.answers) as Answers;
  }

  #rating(part: RatingPart) {
    const a = this.answers[part.key];
    if (a && 'grades' in a) return a;
    this.answers[part.key] = { grades: {} };
    return this.answers[part.key] as { grades: Record<string, string> };
  }

  #recommend(part: RecommendPart) {
    const a = this.answers[part.key];
    if (a && 'picks' in a) return a;
    this.answers[part.key] = { picks: [], writeIns: [] };
    return this.answers[part.key] as { picks: string[]; writeIns: string[] };
  }

  #changed(): void {
    this.#onchange(this.snapshot());
  }
}

function full(part: RecommendPart): string {
  return `最多推荐 ${part.maxPicks} 人，已经选满。如要改选，请先取消一位`;
}
