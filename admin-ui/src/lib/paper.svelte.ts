import { validatePackage, type NormalizedPackage, type PackageCheck } from '../../../server/ballots/validate-package.ts';
import { previewPaper, type PaperPartPreview } from '../../../server/ballots/paper-preview.ts';
import { ABSTAIN } from '../../../server/forms/form.schemas.ts';
import { subjectText } from './format.ts';
import type { BallotPackage, Form, FormPart, PartKey, RatingPart } from './types.ts';

export { ABSTAIN };

/** Names written in on paper, one per line or separated by commas / 、/ spaces. */
export function splitNames(text: string): string[] {
  return text
    .split(/[\n,，、;；\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * One paper ballot being typed in, exactly as marked: a subject left blank is 弃权, a part can be
 * marked void (废票) as a whole, and a part over its quota turns void by itself — the same rules
 * (validatePackage) the server applies when it counts it.
 */
export class PaperDraft {
  readonly form: Form;
  grades = $state<Partial<Record<PartKey, Record<string, string>>>>({});
  voided = $state<Partial<Record<PartKey, boolean>>>({});
  picks = $state<Partial<Record<PartKey, string[]>>>({});
  writeIns = $state<Partial<Record<PartKey, string>>>({});
  comments = $state<Partial<Record<PartKey, string>>>({});

  readonly check: PackageCheck;
  /** Parts that will count as void: marked void, or over a quota. */
  readonly voidParts: PartKey[];
  /** What every part will count as, with the rule in words (the server stores the same for the confirmer). */
  readonly outcomes: Partial<Record<PartKey, PaperPartPreview>>;

  constructor(form: Form) {
    this.form = form;
    this.check = $derived(validatePackage(this.form, this.toPackage(), 'paper'));
    this.voidParts = $derived.by(() => {
      const check = this.check;
      return check.ok ? this.form.parts.filter((p) => 'void' in (check.pkg[p.key] ?? {})).map((p) => p.key) : [];
    });
    this.outcomes = $derived.by(() => {
      const preview = previewPaper(this.form, this.toPackage());
      return preview.ok ? Object.fromEntries(preview.parts.map((p) => [p.part, p])) : {};
    });
  }

  gradeOf(part: RatingPart, subject: string): string | undefined {
    return this.grades[part.key]?.[subject];
  }

  /** Set a grade; the same grade again clears it back to blank. */
  setGrade(part: RatingPart, subject: string, grade: string | null): void {
    const cur = { ...(this.grades[part.key] ?? {}) };
    if (grade === null || cur[subject] === grade) delete cur[subject];
    else cur[subject] = grade;
    this.grades = { ...this.grades, [part.key]: cur };
  }

  setVoid(part: FormPart, value: boolean): void {
    this.voided = { ...this.voided, [part.key]: value };
  }

  togglePick(part: FormPart, key: string): void {
    const cur = this.picks[part.key] ?? [];
    this.picks = { ...this.picks, [part.key]: cur.includes(key) ? cur.filter((k) => k !== key) : [...cur, key] };
  }

  reset(): void {
    this.grades = {};
    this.voided = {};
    this.picks = {};
    this.writeIns = {};
    this.comments = {};
  }

  toPackage(): BallotPackage {
    const pkg: BallotPackage = {};
    for (const part of this.form.parts) {
      if (this.voided[part.key]) {
        pkg[part.key] = { void: true };
        continue;
      }
      if (part.kind === 'rating') pkg[part.key] = { grades: { ...(this.grades[part.key] ?? {}) } };
      else if (part.kind === 'recommend') pkg[part.key] = { picks: [...(this.picks[part.key] ?? [])], writeIns: splitNames(this.writeIns[part.key] ?? '') };
      else pkg[part.key] = { text: (this.comments[part.key] ?? '').trim() };
    }
    return pkg;
  }
}

export interface PartSummary {
  key: PartKey;
  title: string;
  void: boolean;
  /** Readable lines: "把握政治方向：好", "推荐：王芳、李明". */
  lines: string[];
}

/** A package as the second person reads it against the paper. */
export function summarize(form: Form, pkg: NormalizedPackage | BallotPackage): PartSummary[] {
  return form.parts.map((part) => {
    const answer = pkg[part.key] as Record<string, unknown> | undefined;
    const base = { key: part.key, title: part.title };
    if (answer && 'void' in answer) return { ...base, void: true, lines: ['整部分为废票'] };
    if (part.kind === 'rating') {
      const grades = (answer?.grades ?? {}) as Record<string, string>;
      const label = (g: string | undefined) =>
        g === undefined || g === ABSTAIN ? (part.abstainLabel ? `弃权（${part.abstainLabel}）` : '弃权') : (part.grades.find((x) => x.key === g)?.label ?? g);
      return {
        ...base,
        void: false,
        lines: part.subjects.map((s) => `${subjectText(s)}：${label(grades[s.key])}`),
      };
    }
    if (part.kind === 'recommend') {
      const picks = ((answer?.picks ?? []) as string[]).map((k) => part.candidates.find((c) => c.key === k)?.name ?? k);
      const written = (answer?.writeIns ?? []) as string[];
      const all = [...picks, ...written.map((w) => `${w}（另提）`)];
      return { ...base, void: false, lines: [all.length ? `推荐：${all.join('、')}` : '未推荐（弃权）'] };
    }
    const text = String(answer?.text ?? '');
    return { ...base, void: false, lines: [text ? `意见建议：${text}` : '未填写'] };
  });
}
