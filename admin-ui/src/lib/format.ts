import type { UnitKind } from './types.ts';

export const UNIT_KIND_LABELS: Record<UnitKind, string> = { village: '村', community: '社区', station: '站所' };

export const ROLE_LABELS = { township: '镇党委办公室（管理员）', inspector: '考察组' } as const;

/** "2020-11-25T09:00" or an ISO time → "2020年11月25日 09:00". */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日 ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function formatClock(ms: number): string {
  const neg = ms < 0;
  const s = Math.ceil(Math.abs(ms) / 1000);
  const text = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  return neg && s > 0 ? `-${text}` : text;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} 字节`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

const AUDIT_LABELS: Record<string, string> = {
  'admin.setup': '创建首个管理员',
  'admin.login': '登录',
  'admin.login_failed': '登录失败',
  'admin.logout': '退出登录',
  'admin.created': '新建账号',
  'admin.updated': '修改账号',
  'meeting.assigned': '分配会议给考察组账号',
  'meeting.unassigned': '取消会议分配',
  'campaign.created': '新建年度测评',
  'campaign.updated': '修改年度测评',
  'template.updated': '修改测评表模板',
  'unit.created': '新建单位',
  'unit.updated': '修改单位',
  'unit.deleted': '删除单位',
  'team.updated': '修改班子成员',
  'meeting.created': '新建会议',
  'meeting.updated': '修改会议设置',
  'roster.imported': '导入签到名单',
  'roster.entry_added': '添加参会人员',
  'roster.entry_removed': '删除参会人员',
  'meeting.signin_started': '开始签到',
  'roster.signed_in': '签到',
  'roster.signin_undone': '撤销签到',
  'tickets.replaced': '作废二维码并换发',
  'tickets.reissued': '补发测评票（手机故障）',
  'credentials.slips_issued': '生成打印票条',
  'credentials.rehearsal_issued': '生成演练二维码',
  'meeting.voting_opened': '开始测评',
  'meeting.voting_opened_quorum_override': '人数不足仍开始测评（已填写理由）',
  'ballot.paper_entered': '录入纸质票（待复核）',
  'ballot.paper_confirmed': '复核确认纸质票',
  'ballot.paper_discarded': '删除待复核的纸质票',
  'meeting.voting_closed': '结束测评',
  'meeting.sealed': '封存结果',
  'inspection.talks_drawn': '抽取个别谈话人员',
  'inspection.talks_redrawn': '重新抽取个别谈话人员',
  'inspection.talks_extended': '追加抽取个别谈话人员',
  'inspection.settings_updated': '修改考察材料设置',
  'inspection.year_exported': '导出年度考察材料',
  'inspection.imported': '导入考察材料',
};

export function auditLabel(event: string): string {
  return AUDIT_LABELS[event] ?? event;
}

/** A subject as one line: 张三（党支部副书记）, or 张三（党支部副书记） 组织纪律 when rated per criterion. */
export function subjectText(s: { label: string; detail: string | null; member: boolean }): string {
  if (!s.detail) return s.label;
  if (s.member && !s.detail.endsWith('）')) return `${s.label}（${s.detail}）`;
  return `${s.detail} ${s.label}`;
}

/** A rating row's figures in one line, as a bar's accessible name says them: each grade, then 弃权/不了解. */
export function rowSummary(
  row: { counts: number[]; shares: { text: string }[]; abstain: number; abstainShare: { text: string } },
  grades: { label: string }[],
  abstainLabel: string,
): string {
  return [...grades.map((g, i) => `${g.label} ${row.counts[i]} 票（${row.shares[i]!.text}）`), `${abstainLabel} ${row.abstain} 票（${row.abstainShare.text}）`].join('，');
}
