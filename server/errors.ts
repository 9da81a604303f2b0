/**
 * The one registry of domain errors: each code has an HTTP status and the Chinese words a user reads.
 * Services throw DomainError(code); the error handler turns it into { error: { code, message } }.
 */
export const ERRORS = {
  // generic
  VALIDATION: [400, '提交的内容格式不正确'],
  NOT_FOUND: [404, '未找到该记录'],
  INTERNAL: [500, '服务器暂时出现问题，请稍后再试；如果一直出现，请联系镇党委办公室'],
  DATABASE_BUSY: [503, '数据库文件正被其他程序占用，本次操作没有保存。请关闭正在读取数据库的程序后重试'],
  DATABASE_UNAVAILABLE: [503, '数据库暂时无法访问，本次操作没有保存，请稍后重试'],
  STORAGE_FAILED: [503, '服务器无法把数据写入磁盘（磁盘已满或无法写入），本次操作没有保存。请稍后重试，并请管理员检查服务器的磁盘'],
  RATE_LIMITED: [429, '操作太频繁，请稍等片刻再试'],
  // requests the server cannot read (said without repeating any part of the request)
  BAD_URL: [400, '网址格式不正确'],
  BAD_ID: [400, '网址中的编号不正确，编号应为正整数'],
  BAD_JSON: [400, '提交的内容不是有效的 JSON'],
  TEXT_NUL: [400, '提交的文字中含有空字符（U+0000），请删去后重试'],
  BAD_REQUEST: [400, '请求无法处理，请刷新页面后重试'],
  BODY_TOO_LARGE: [413, '提交的内容太大'],
  UNSUPPORTED_MEDIA_TYPE: [415, '提交内容的格式不受支持，请以 JSON（application/json）格式提交'],
  NOTHING_TO_CHANGE: [400, '没有要修改的内容，未作任何修改'],
  UPGRADE_REQUIRED: [426, '此地址只接受 WebSocket 连接'],
  // accounts and sessions
  UNAUTHENTICATED: [401, '请先登录'],
  FORBIDDEN: [403, '您没有权限进行此操作'],
  CSRF: [403, '页面已过期，请刷新页面后重试'],
  BAD_LOGIN: [401, '用户名或密码不正确'],
  SETUP_DONE: [409, '系统已完成初始设置，请直接登录'],
  SETUP_CODE: [403, '初始设置码不正确，请查看服务器启动时显示的设置码'],
  USERNAME_TAKEN: [409, '该用户名已被使用'],
  ORIGIN: [403, '请求来源不正确'],
  PASSWORD_WEAK: [400, '密码至少需要 8 个字符'],
  ACCOUNT_DISABLED: [403, '该账号已停用，请联系镇党委办公室'],
  CANNOT_DISABLE_SELF: [409, '不能停用自己正在使用的账号'],
  NOT_INSPECTOR: [400, '只能为考察组账号分配会议；镇党委账号本来就可以查看全部会议'],
  // set-up
  TEMPLATE_INVALID: [400, '测评表模板设置有误'],
  NO_SECRETARY: [409, '该单位尚未设置党组织书记，无法生成第三部分测评表'],
  NO_TEAM: [409, '该单位尚未录入班子成员'],
  // meeting lifecycle
  BAD_STATE: [409, '会议当前状态不允许此操作'],
  QUORUM_NOT_MET: [409, '签到人数未达到规定人数，不能开始测评'],
  OVERRIDE_REASON: [400, '请填写不足规定人数仍开始测评的理由'],
  MEETING_SEALED: [409, '会议已封存，不能再作任何修改'],
  ALREADY_SIGNED_IN: [409, '此人已签到'],
  NOT_SIGNED_IN: [409, '此人尚未签到'],
  UNDO_TOO_LATE: [409, '此人的票已经使用（二维码已被手机领取或纸质票已全部确认），不能撤销签到'],
  UNDO_LIVE_GATE: [409, '实时统计已公布过阶段结果，现在撤销签到会使还没投的票太少，测评结束时可能推断出个人的选择，因此不能撤销。此人的签到和二维码保留有效；如确属签错，请在会议记录中注明'],
  ROSTER_IMPORT: [400, '签到名单有错误，请按提示修改后重新导入'],
  // tickets (what the desk hands out) and tokens (what the phone makes of one)
  TICKET_INVALID: [404, '二维码或测评码无效，请核对后重试，或向工作人员求助'],
  TICKET_USED: [409, '此二维码已经在另一部手机上领取过。如果是您本人领取后手机出了问题，请到签到台办理补发'],
  TICKET_VOID: [409, '此二维码已作废，请使用签到台重新发给您的二维码'],
  TICKET_NOT_HANDED_OUT: [409, '这张票条还没有在签到台登记发放，请先到签到台签到'],
  TICKET_NOT_REDEEMED: [409, '此人的二维码还没有被手机领取，可以重新显示或作废后换一张，不需要补发'],
  TICKET_ALREADY_REDEEMED: [409, '此人的二维码已被手机领取；如手机故障无法投票，请办理补发'],
  TICKET_NONE: [409, '此人没有领取二维码（纸质票或尚未签到）'],
  TICKET_NOT_SHOWN: [409, '服务器重启后无法再次显示原二维码，请作废后换一张新的'],
  SLIP_UNKNOWN: [404, '没有这个编号的打印票条，请核对票条上的编号'],
  SLIP_TAKEN: [409, '这张打印票条已经发给别人或已作废，请换一张'],
  REISSUE_REASON: [400, '补发须填写原因（至少4个字）'],
  TOKEN_INVALID: [400, '测评凭证无效，请回到签到台重新扫码，或向工作人员求助'],
  TOKEN_USED: [409, '您已完成测评，不能再次提交'],
  KEY_CHANGED: [409, '测评密钥与之前不一致，请停止操作并告知考察组'],
  IMPORT_BUSY: [429, '服务器正在检查另一个上传的文件，请稍等片刻再试'],
  // voting
  VOTING_NOT_OPEN: [409, '测评尚未开始，请等待主持人宣布开始测评'],
  VOTING_CLOSED: [409, '测评已经结束，不能再提交'],
  REHEARSAL_EXPIRED: [409, '这是演练用二维码，正式测评已开始，请使用正式发放的二维码'],
  BALLOT_LIMIT: [409, '收回票数已达到发出票数，不能再提交'],
  PAPER_LIMIT: [409, '已确认的纸质票数已达到发出的纸质票数，不能再确认'],
  COMPACTING: [409, '测评结束后正在整理数据库，请稍候几秒再试'],
  BALLOT_INVALID: [400, '测评表填写不完整或不符合要求'],
  PAPER_SAME_PERSON: [409, '纸质票须由另一名考察组成员复核确认，录入人不能自己确认'],
  BACKUP_DURING_MEETING: [409, '有会议正在签到或测评，此时不能下载数据库备份；请在测评结束后再备份'],
  PAPER_PENDING: [409, '还有纸质票未复核确认，请先确认或删除后再结束测评'],
  // sealed archive
  ARCHIVE_NOT_READY: [409, '会议封存后才生成测评档案'],
  ARCHIVE_INVALID: [400, '这不是 Ceping 测评档案文件，无法导入'],
  // 考察 (talks, records, 鉴定表, report): none of it touches a ballot
  DRAW_SEED: [400, '请输入抽签种子（例如现场宣读的一张纸币的编号）'],
  DRAW_COUNT: [400, '抽取人数不符合规定'],
  DRAW_REASON: [400, '重新抽取须填写理由（至少4个字）'],
  TALKS_STARTED: [409, '已有抽中人员谈话完毕或写了记录，不能重新抽取'],
  NOT_DRAWN: [409, '请先抽取谈话人员'],
  INSPECTION_FIELDS: [400, '考察材料的设置有误'],
  INSPECTION_FILE_INVALID: [400, '这不是 Ceping 考察材料文件，无法导入'],
  ARCHIVE_LIMIT: [413, '档案文件超出了可以导入的范围'],
  FILE_LIMIT: [413, '文件超出了可以导入的范围'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERRORS;

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  /** `message` overrides the registry's words when the refusal can say more (which part, which subject). */
  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERRORS[code][1]);
    this.code = code;
    this.status = ERRORS[code][0];
    this.details = details;
  }
}

export function errorBody(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
  return { error: { code, message: message ?? ERRORS[code][1], ...(details ? { details } : {}) } };
}
