/**
 * Meetings made over HTTP on a running server, the way the township office, the desk and the phones
 * make them: campaign, unit, team, meeting, roster file, start sign-in, sign every person in, redeem every
 * ticket (a phone's blinded redemption, or the assisted one where noted), open voting. Nothing here is timed.
 */
import type { Form } from '../../server/forms/form.schemas.ts';
import type { PhoneToken } from '../../tests/helpers/phone.ts';
import { castPayload } from '../../tests/helpers/phone.ts';
import { fullPackage } from '../../tests/helpers/packages.ts';
import { HttpAdmin, redeemOver } from '../../tests/helpers/server-process.ts';

export interface HallMeeting {
  meetingId: number;
  campaignId: number;
  form: Form;
  tokens: PhoneToken[];
}

/** Run `fn` over `items` with at most `limit` at a time, in order of start. */
export async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

let unitSerial = 0;

export async function makeCampaign(admin: HttpAdmin, year: number): Promise<number> {
  return (await admin.call<{ id: number }>('POST', '/api/campaigns', { year, township: '插旗镇' })).id;
}

export interface HallMeetingOptions {
  people: number;
  /** 'blinded': as the phone page (the bench finishes each redemption); 'assisted': the server makes the token. */
  redemption?: 'blinded' | 'assisted';
  liveK?: number;
  open?: boolean;
}

/** A village meeting of `people`, all signed in with a QR each and every ticket redeemed; voting open. */
export async function makeHallMeeting(admin: HttpAdmin, campaignId: number, o: HallMeetingOptions): Promise<HallMeeting> {
  const n = ++unitSerial;
  const unit = await admin.call<{ id: number }>('POST', `/api/campaigns/${campaignId}/units`, {
    name: `第${n}村`, kind: 'village', reserveCandidates: ['候选人甲', '候选人乙', '候选人丙'],
  });
  await admin.call('PUT', `/api/units/${unit.id}/team`, {
    members: ['书记', '主任', '副书记', '委员'].map((position, i) => ({ name: `成员${n}之${i + 1}`, position, isSecretary: i === 0 })),
  });
  const meeting = await admin.call<{ id: number }>('POST', `/api/units/${unit.id}/meetings`, o.liveK ? { liveK: o.liveK } : {});
  const csv = '\ufeff姓名,类别,备注\n' + Array.from({ length: o.people }, (_, i) => `参会${i + 1},党员,`).join('\n') + '\n';
  const imported = await admin.call<{ committed: boolean }>('POST', `/api/meetings/${meeting.id}/roster/import`, {
    filename: '签到表.csv', dataBase64: Buffer.from(csv).toString('base64'), commit: true,
  });
  if (!imported.committed) throw new Error('roster import refused');
  await admin.call('POST', `/api/meetings/${meeting.id}/start-signin`);
  const { entries } = await admin.call<{ entries: { id: number }[] }>('GET', `/api/meetings/${meeting.id}/roster`);
  const tickets = await inParallel(entries, 4, async (e) => {
    const r = await admin.call<{ ticket: { secret: string } }>('POST', `/api/meetings/${meeting.id}/roster/${e.id}/sign-in`, { handout: 'qr' });
    return r.ticket.secret;
  });
  const tokens = await inParallel(tickets, 4, (ticket) => (o.redemption === 'assisted' ? redeemAssisted(admin.base, ticket) : redeemOver(admin.base, ticket)));
  if (o.open ?? true) await admin.call('POST', `/api/meetings/${meeting.id}/open-voting`, { overrideReason: null });
  const { form } = await admin.call<{ form: Form }>('GET', `/api/meetings/${meeting.id}/form`);
  return { meetingId: meeting.id, campaignId, form, tokens };
}

/** The redemption of a phone that cannot run the curve code: the server makes the token for it. */
async function redeemAssisted(base: string, ticket: string): Promise<PhoneToken> {
  const res = await fetch(`${base}/api/voter/redeem`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ticket, blinded: null }) });
  if (!res.ok) throw new Error(`redeem → ${res.status} ${await res.text()}`);
  const b = (await res.json()) as { meetingId: number; access: string; token: { input: string; output: string }; rehearsal: boolean; publicKey: string; keyFingerprint: string };
  return { meetingId: b.meetingId, access: b.access, input: b.token.input, output: b.token.output, rehearsal: b.rehearsal, publicKey: b.publicKey, keyFingerprint: b.keyFingerprint };
}

/** The request bodies of every token's cast: a complete, valid package (grade 称职 everywhere, one pick). */
export function castBodies(m: HallMeeting, comment = ''): string[] {
  const pkg = fullPackage(m.form, 1, comment);
  return m.tokens.map((t) => JSON.stringify(castPayload(t, pkg)));
}
