import { cleanText } from '../shared/text.ts';
import { ABSTAIN, type Template, type TemplatePart } from './form.schemas.ts';

/**
 * The rules of a template beyond its schema, with the labels cleaned as the roster's names are
 * (shared/text.ts: invisible characters dropped, white space collapsed), so that an item of only U+200B
 * is seen as empty and 工作作风 / 工作\u200b作风 as the same item. Messages name the part by its letter:
 * a refusal never repeats text from the request.
 */
export function checkTemplate(template: Template): { ok: true; template: Template } | { ok: false; message: string } {
  try {
    return { ok: true, template: { ...template, parts: template.parts.map(checkPart) } };
  } catch (e) {
    if (e instanceof TemplateRefusal) return { ok: false, message: e.message };
    throw e;
  }
}

class TemplateRefusal extends Error {}

function checkPart(part: TemplatePart): TemplatePart {
  const refuse = (message: string): never => {
    throw new TemplateRefusal(`第 ${part.key} 部分${message}`);
  };
  const label = (raw: string, what: string): string => {
    const text = cleanText(raw);
    if (text === '') refuse(`的${what}为空（只含有空格或看不见的字符）`);
    return text;
  };
  /** Items shown to the voter one below another: none empty, no two the same once cleaned. */
  const items = (raw: string[], what: string): string[] => {
    const out = raw.map((x) => label(x, what));
    if (new Set(out).size !== out.length) refuse(`的${what}有重复（去掉空格和看不见的字符后相同）`);
    return out;
  };
  const title = label(part.title, '标题');
  if (part.kind !== 'rating') return { ...part, title };

  const keys = new Set(part.grades.map((g) => g.key));
  if (keys.has(ABSTAIN)) refuse(`的评价等次代码不能是 ${ABSTAIN}：这个代码留给「弃权/不了解」选项，请换一个代码`);
  if (keys.size !== part.grades.length) refuse('的评价等次代码有重复');
  for (const q of part.quotas) if (!keys.has(q.grade)) refuse('的名额限制引用了不存在的等次');
  const grades = part.grades.map((g) => ({ ...g, label: label(g.label, '评价等次名称') }));
  if (new Set(grades.map((g) => g.label)).size !== grades.length) refuse('的评价等次名称有重复');
  const abstainLabel = part.abstainLabel === null ? null : label(part.abstainLabel, '弃权选项名称');
  if (abstainLabel !== null && grades.some((g) => g.label === abstainLabel)) refuse('的弃权选项名称与评价等次名称相同');
  const source =
    part.source.type === 'team'
      ? { ...part.source, collectiveLabel: label(part.source.collectiveLabel, '班子集体名称'), criteria: part.source.criteria === null ? null : items(part.source.criteria, '测评项目') }
      : { ...part.source, items: items(part.source.items, '测评项目') };
  return { ...part, title, grades, abstainLabel, source };
}
