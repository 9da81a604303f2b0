import type { Services } from '../services.ts';

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤';
const GIVEN = '建国华明秀英志强春梅海燕玉兰国平德胜桂芳红霞永福金凤小军丽娟文斌家豪淑珍子涵宇航俊杰晓东雪梅思远立新爱民光辉少华丹丹庆丰';

/** Deterministic names, so the demonstration looks the same on every machine. */
function names(count: number, seed: number): string[] {
  const out = new Set<string>();
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648);
  while (out.size < count) {
    const s = SURNAMES[next() % SURNAMES.length]!;
    const g1 = GIVEN[next() % GIVEN.length]!;
    const g2 = next() % 3 === 0 ? '' : GIVEN[next() % GIVEN.length]!;
    out.add(s + g1 + g2);
  }
  return [...out];
}

interface DemoUnit {
  name: string;
  kind: 'village' | 'community' | 'station';
  rosterSize: number;
  team: { position: string; isSecretary: boolean }[];
  categories: [string, number][];
  candidates: number;
}

const UNITS: DemoUnit[] = [
  {
    name: '红旗村',
    kind: 'village',
    rosterSize: 72,
    team: [
      { position: '党支部书记、村委会主任', isSecretary: true },
      { position: '党支部副书记', isSecretary: false },
      { position: '村委会副主任', isSecretary: false },
      { position: '村委委员、妇女主任', isSecretary: false },
      { position: '村务监督委员会主任', isSecretary: false },
    ],
    categories: [['两委成员', 5], ['后备干部', 3], ['村民小组长', 12], ['党员', 30], ['群众代表', 22]],
    candidates: 4,
  },
  {
    name: '城南社区',
    kind: 'community',
    rosterSize: 45,
    team: [
      { position: '党总支书记、居委会主任', isSecretary: true },
      { position: '党总支副书记', isSecretary: false },
      { position: '居委会副主任', isSecretary: false },
      { position: '居委委员', isSecretary: false },
    ],
    categories: [['两委成员', 4], ['后备干部', 2], ['党员', 20], ['群众代表', 19]],
    candidates: 3,
  },
  {
    name: '农业综合服务站',
    kind: 'station',
    rosterSize: 12,
    team: [
      { position: '站长、党支部书记', isSecretary: true },
      { position: '副站长', isSecretary: false },
    ],
    categories: [['站所职工', 12]],
    candidates: 2,
  },
];

/**
 * The demonstration year: 插旗镇 2020 with a village (72 on the roster), a community (45) and a
 * station (12 staff), their teams and a draft meeting each. Returns the campaign id; does nothing
 * if the demonstration year is already there.
 */
export async function seedDemo(services: Services, actorId: number | null): Promise<number> {
  const existing = (await services.setup.listCampaigns()).find((c) => c.year === 2020 && c.township === '插旗镇');
  if (existing) return existing.id;
  const campaign = await services.setup.createCampaign(actorId, { year: 2020, township: '插旗镇' });
  let seed = 7;
  for (const u of UNITS) {
    const people = names(u.rosterSize + u.candidates + u.team.length, seed++);
    const team = u.team.map((t, i) => ({ name: people[i]!, position: t.position, isSecretary: t.isSecretary }));
    const candidates = people.slice(u.team.length, u.team.length + u.candidates);
    const unit = await services.setup.createUnit(actorId, campaign.id, { name: u.name, kind: u.kind, reserveCandidates: candidates });
    await services.setup.replaceTeam(actorId, unit.id, team);
    const meeting = await services.meetings.create(actorId, unit.id, {
      plannedAt: '2020-11-25T09:00',
      location: `${u.name}会议室`,
      inspectionTeam: '插旗镇第一考察组',
    });
    // Team members are on the roster too (they attend and vote); the rest by category.
    const rows: { name: string; category: string; note: string; walkIn: boolean }[] = [];
    let p = u.team.length + u.candidates;
    let teamLeft = [...team];
    for (const [category, n] of u.categories) {
      for (let i = 0; i < n; i++) {
        const fromTeam = (category === '两委成员' || category === '站所职工') ? teamLeft.shift() : undefined;
        rows.push({ name: fromTeam?.name ?? people[p++] ?? `参会人员${p}`, category, note: '', walkIn: false });
      }
    }
    teamLeft = [];
    await services.roster.addMany(actorId, meeting.id, rows.slice(0, u.rosterSize));
  }
  return campaign.id;
}
