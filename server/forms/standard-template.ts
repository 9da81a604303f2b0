import type { Template } from './form.schemas.ts';

const QUALITY = [
  { key: 'good', label: '好' },
  { key: 'fair', label: '较好' },
  { key: 'average', label: '一般' },
  { key: 'poor', label: '差' },
];
const COMPETENCE = [
  { key: 'excellent', label: '优秀' },
  { key: 'competent', label: '称职' },
  { key: 'basic', label: '基本称职' },
  { key: 'incompetent', label: '不称职' },
];

/** The five parts as the 2020 notice of 插旗镇 describes them; every campaign starts from a copy. */
export function standardTemplate(): Template {
  return {
    parts: [
      {
        kind: 'rating',
        key: 'A',
        title: '党组织政治建设民主测评表',
        scale: 'quality',
        grades: QUALITY.map((g) => ({ ...g })),
        abstainLabel: '不了解',
        quotas: [],
        guidance: [],
        source: {
          type: 'static',
          items: ['把握政治方向', '夯实政治根基', '严肃政治生活', '提高政治能力', '严格政治自律', '总体评价'],
        },
      },
      {
        kind: 'rating',
        key: 'B',
        title: '班子集体和成员年度考核民主测评表',
        scale: 'competence',
        grades: COMPETENCE.map((g) => ({ ...g })),
        abstainLabel: '不了解',
        quotas: [{ grade: 'excellent', max: null, maxShare: 0.3, scope: 'members' }],
        guidance: [
          '组织纪律：执行上级决策、服从分工调度、遵纪守法、公平公正发放各类款项、维护班子团结',
          '工作态度：责任心、事业心，工作扎实主动',
          '财务制度：制度健全、开支合理、按时报账、及时公开',
          '工作业绩：按时保质完成镇党委、政府交办的各项工作，为民办实事',
          '廉洁自律：不优亲厚友、不索拿卡要、不挪用项目资金',
        ],
        source: { type: 'team', collectiveLabel: '班子集体', criteria: null },
      },
      {
        kind: 'rating',
        key: 'C',
        title: '党组织书记抓基层党建工作述职评议表',
        scale: 'quality',
        grades: QUALITY.map((g) => ({ ...g })),
        abstainLabel: '不了解',
        quotas: [],
        guidance: [],
        source: { type: 'secretary', items: ['总体评价'] },
      },
      { kind: 'recommend', key: 'D', title: '后备干部人选推荐表', maxPicks: 2, allowWriteIn: true },
      { kind: 'comment', key: 'E', title: '意见建议', maxLength: 500 },
    ],
  };
}
