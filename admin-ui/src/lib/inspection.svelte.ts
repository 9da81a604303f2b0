import { api as defaultApi, describeError, type Api } from './api.ts';
import { PageAction, type PageError } from './action.svelte.ts';
import type { AppraisalBody, DrawBody, InspectionWorkspace, ReportBody, Talk } from './types.ts';

/**
 * One meeting's 考察 workspace on this laptop: the talk list, records, inquiries, 鉴定表 and report
 * texts, as the server last answered. Every change goes to the server and the page shows its answer.
 */
export class InspectionStore {
  ws = $state<InspectionWorkspace | null>(null);
  loadError = $state<PageError | null>(null);
  readonly action = new PageAction();
  readonly meetingId: number;
  readonly #api: Api;

  constructor(meetingId: number, api: Api = defaultApi) {
    this.meetingId = meetingId;
    this.#api = api;
  }

  get base(): string {
    return `/api/meetings/${this.meetingId}/inspection`;
  }

  async load(): Promise<void> {
    try {
      this.ws = await this.#api.get<InspectionWorkspace>(this.base);
      this.loadError = null;
    } catch (e) {
      this.loadError = describeError(e);
    }
  }

  #save(path: string, method: 'POST' | 'PUT', body: unknown, done: string): Promise<void> {
    return this.action.run(async () => {
      this.ws = method === 'POST' ? await this.#api.post<InspectionWorkspace>(`${this.base}${path}`, body) : await this.#api.put<InspectionWorkspace>(`${this.base}${path}`, body);
    }, done);
  }

  draw(body: DrawBody, again: boolean): Promise<void> {
    return this.#save('/draw', 'POST', body, again ? '已重新抽取，原抽取记录已保留' : '已生成谈话名单');
  }

  extend(count: number): Promise<void> {
    return this.#save('/draw/extend', 'POST', { count }, `已追加抽取，现抽取 ${count} 人`);
  }

  addTalk(name: string, detail: string): Promise<void> {
    return this.#save('/talks', 'POST', { name, detail }, `已将「${name}」加入谈话名单`);
  }

  /** 已谈 / notes of one person; the list is updated in place with the server's answer. */
  async setTalk(id: number, patch: { done?: boolean; notes?: string }): Promise<boolean> {
    let ok = false;
    await this.action.run(async () => {
      const t = await this.#api.patch<Talk>(`${this.base}/talks/${id}`, patch);
      if (this.ws) {
        const people = this.ws.talks.people.map((p) => (p.id === id ? t : p));
        this.ws = { ...this.ws, talks: { ...this.ws.talks, people, done: people.filter((p) => p.done).length } };
      }
      ok = true;
    }, patch.notes !== undefined ? '谈话记录已保存' : undefined);
    return ok;
  }

  removeTalk(id: number): Promise<void> {
    return this.action.run(async () => {
      await this.#api.delete(`${this.base}/talks/${id}`);
      this.ws = await this.#api.get<InspectionWorkspace>(this.base);
    }, '已从名单中删除');
  }

  saveRecords(records: { label: string; checked: boolean; findings: string }[]): Promise<void> {
    return this.#save('/records', 'PUT', { records }, '查阅资料情况已保存');
  }

  addInquiry(title: string, body: string): Promise<void> {
    return this.#save('/inquiries', 'POST', { title, body }, '已添加专项调查');
  }

  updateInquiry(id: number, title: string, body: string): Promise<void> {
    return this.#save(`/inquiries/${id}`, 'PUT', { title, body }, '专项调查已保存');
  }

  removeInquiry(id: number): Promise<void> {
    return this.action.run(async () => {
      await this.#api.delete(`${this.base}/inquiries/${id}`);
      this.ws = await this.#api.get<InspectionWorkspace>(this.base);
    }, '已删除专项调查');
  }

  saveAppraisal(body: AppraisalBody): Promise<void> {
    return this.#save('/appraisal', 'PUT', body, '鉴定表已保存');
  }

  saveReport(body: ReportBody): Promise<void> {
    return this.#save('/report', 'PUT', body, '考察报告已保存');
  }
}

export const ROLE_TEXT = { team: '班子成员', drawn: '随机抽取', added: '另行增加' } as const;
export const DRAW_KIND_TEXT = { draw: '抽取', redraw: '重新抽取', extend: '追加抽取', everyone: '全体干部职工' } as const;

/** The command-line that re-checks a draw, as printed. */
export function recheckText(command: string): string {
  return `复核方法：下载「候选名单」文件，在任何装有 Node.js 的电脑上、于 Ceping 程序目录中运行：${command}`;
}
