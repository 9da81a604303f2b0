import { Template as TemplateSchema } from '../../../server/forms/form.schemas.ts';
import { resolveForm } from '../../../server/forms/resolve-form.ts';
import { standardTemplate } from '../../../server/forms/standard-template.ts';
import { DomainError } from '../../../server/errors.ts';
import type { Form, Template, TemplatePart, Unit } from './types.ts';

/**
 * The template editor's rules, shared with the server: the same zod schema checks the draft, the
 * same resolveForm turns it into the phone page for the preview.
 */
export const PART_ORDINALS = ['一', '二', '三', '四', '五'];

const FIELD_NAMES: Record<string, string> = {
  title: '标题',
  grades: '评价等次',
  label: '名称',
  key: '代码',
  abstainLabel: '弃权选项名称',
  quotas: '名额限制',
  max: '最多个数',
  maxShare: '最多比例',
  guidance: '评价参考',
  source: '测评对象',
  items: '项目',
  collectiveLabel: '班子集体的名称',
  criteria: '分项',
  maxPicks: '最多推荐人数',
  maxLength: '最多字数',
  parts: '部分',
};

function pathText(draft: Template, path: PropertyKey[]): string {
  const words: string[] = [];
  let node: unknown = draft;
  for (let i = 0; i < path.length; i++) {
    const p = path[i]!;
    if (i === 1 && path[0] === 'parts' && typeof p === 'number') {
      const part = draft.parts[p];
      words.push(`第${PART_ORDINALS[p] ?? p + 1}部分${part ? `「${part.title}」` : ''}`);
    } else if (typeof p === 'number') {
      words.push(`第${p + 1}项`);
    } else if (p !== 'parts') {
      words.push(FIELD_NAMES[String(p)] ?? String(p));
    }
    node = node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[p] : undefined;
  }
  return words.join(' › ');
}

/** The draft's problems in Chinese, or [] when the server will accept it. */
export function templateProblems(draft: Template): string[] {
  const r = TemplateSchema.safeParse(draft);
  if (r.success) return [];
  return r.error.issues.map((issue) => {
    const where = pathText(draft, issue.path);
    let what: string;
    switch (issue.code) {
      case 'too_small':
        what = issue.origin === 'string' ? '不能为空' : issue.origin === 'array' ? `至少需要 ${String(issue.minimum)} 项` : `不能小于 ${String(issue.minimum)}`;
        break;
      case 'too_big':
        what = issue.origin === 'string' ? `不能超过 ${String(issue.maximum)} 个字` : issue.origin === 'array' ? `最多 ${String(issue.maximum)} 项` : `不能大于 ${String(issue.maximum)}`;
        break;
      case 'invalid_format':
        what = '只能使用字母、数字、- 和 _';
        break;
      case 'custom':
        what = issue.message === 'quota needs max or maxShare' ? '请填写最多个数或最多比例' : issue.message === 'part keys must be unique' ? '部分不能重复' : issue.message;
        break;
      default:
        what = '填写不正确';
    }
    return where ? `${where}：${what}` : what;
  });
}

/** The phone page this draft makes for one unit, or the reason it cannot. */
export function previewForm(draft: Template, unit: Unit): { form: Form } | { problem: string } {
  try {
    return {
      form: resolveForm(draft, {
        name: unit.name,
        members: unit.members.map((m) => ({ id: m.id, name: m.name, position: m.position, isSecretary: m.isSecretary })),
        reserveCandidates: unit.reserveCandidates,
      }),
    };
  } catch (e) {
    if (e instanceof DomainError) return { problem: `${unit.name}：${e.message}` };
    return { problem: '模板还不完整，暂时无法预览' };
  }
}

/** A standard part to add back (e.g. 意见建议 removed earlier). */
export function standardPart(key: TemplatePart['key']): TemplatePart | undefined {
  return standardTemplate().parts.find((p) => p.key === key);
}

export function unusedGradeKey(existing: { key: string }[]): string {
  for (let i = existing.length + 1; ; i++) if (!existing.some((g) => g.key === `g${i}`)) return `g${i}`;
}
