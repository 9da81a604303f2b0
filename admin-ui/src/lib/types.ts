/**
 * The server's request and response types, taken from its zod schemas (types only): a changed API
 * breaks this build, not the meeting. Nothing here is written by hand that the server already defines.
 */
import type { z } from 'zod';
import type * as Auth from '../../../server/auth/auth.schemas.ts';
import type * as Setup from '../../../server/setup/setup.schemas.ts';
import type * as Meetings from '../../../server/meetings/meetings.schemas.ts';
import type * as Roster from '../../../server/roster/roster.schemas.ts';
import type * as Live from '../../../server/live/live.schemas.ts';
import type { ErrorBody as ErrorSchema } from '../../../server/error.schemas.ts';
import type * as Archive from '../../../server/archive/archive.schemas.ts';
import type * as Inspection from '../../../server/inspection/inspection.schemas.ts';

export type {
  BallotPackage, Form, FormPart, Grade, PartKey, Quota, RatingPart, RecommendPart, CommentPart, Subject, Template, TemplatePart, SubjectSource, Scale,
} from '../../../server/forms/form.schemas.ts';
export type { PartResult, RatingResult, RatingRow, RecommendResult, CommentResult, Results, Percent, Rate, RowFlag, RankedCandidate } from '../../../server/counting/tally.ts';
import type { SummaryRow as SummaryRowType } from '../../../server/reports/summary.ts';
export type SummaryRow = SummaryRowType;

export type AdminPrincipal = z.infer<typeof Auth.AdminPrincipal>;
export type AdminRole = z.infer<typeof Auth.AdminRole>;
export type SessionResponse = z.infer<typeof Auth.SessionResponse>;
export type AuthStateResponse = z.infer<typeof Auth.AuthStateResponse>;
export type SetupRequest = z.infer<typeof Auth.SetupRequest>;
export type LoginRequest = z.infer<typeof Auth.LoginRequest>;
export type AdminAccount = z.infer<typeof Auth.AdminAccount>;
export type AdminAccountList = z.infer<typeof Auth.AdminAccountList>;
export type CreateAccountRequest = z.infer<typeof Auth.CreateAccountRequest>;
export type UpdateAccountRequest = z.infer<typeof Auth.UpdateAccountRequest>;
export type AssignmentList = z.infer<typeof Auth.AssignmentList>;
export type AssignRequest = z.infer<typeof Auth.AssignRequest>;

export type Campaign = z.infer<typeof Setup.Campaign>;
export type CampaignInput = z.input<typeof Setup.CampaignInput>;
export type CampaignDetail = z.infer<typeof Setup.CampaignDetail>;
export type Unit = z.infer<typeof Setup.Unit>;
export type UnitKind = z.infer<typeof Setup.UnitKind>;
export type UnitInput = z.input<typeof Setup.UnitInput>;
export type UnitPatch = z.input<typeof Setup.UnitPatch>;
export type TeamMember = z.infer<typeof Setup.TeamMember>;
export type TeamInput = z.input<typeof Setup.TeamInput>;
export type TeamMemberInput = z.input<typeof Setup.TeamMemberInput>;
export type TemplateBody = z.input<typeof Setup.TemplateBody>;
export type FormPreview = z.infer<typeof Setup.FormPreview>;
export type TeamImportResponse = z.infer<typeof Setup.TeamImportResponse>;

export type Meeting = z.infer<typeof Meetings.Meeting>;
export type MeetingState = Meeting['state'];
export type MeetingInput = z.input<typeof Meetings.MeetingInput>;
export type OpenVotingBody = z.input<typeof Meetings.OpenVotingBody>;
export type GuardResponse = z.infer<typeof Meetings.GuardResponse>;
export type AuditEntry = z.infer<typeof Meetings.AuditEntry>;
export type PendingPaperList = z.infer<typeof Meetings.PendingPaperList>;
export type PendingPaper = PendingPaperList['pending'][number];
export type ConfirmPaperBody = z.input<typeof Meetings.ConfirmPaperBody>;

export type RosterEntry = z.infer<typeof Roster.RosterEntry>;
export type RosterEntryInput = z.input<typeof Roster.RosterEntryInput>;
export type Handout = z.infer<typeof Roster.Handout>;
export type SignInBody = z.input<typeof Roster.SignInBody>;
export type SignInResponse = z.infer<typeof Roster.SignInResponse>;
export type IssuedTicket = z.infer<typeof Roster.IssuedTicket>;
export type TicketStatus = z.infer<typeof Roster.TicketStatus>;
export type SlipsBody = z.input<typeof Roster.SlipsBody>;
export type SlipsResponse = z.infer<typeof Roster.SlipsResponse>;
export type ImportBody = z.input<typeof Roster.ImportBody>;
export type ImportResponse = z.infer<typeof Roster.ImportResponse>;

export type Turnout = z.infer<typeof Live.Turnout>;
export type LiveState = z.infer<typeof Live.LiveState>;
export type LiveMessage = Live.LiveMessage;

export type { TimerView, TimerCommandBody } from '../../../server/timers/timers.schemas.ts';
export type { Speaker } from '../../../server/timers/timers.ts';

export type PublicKeyResponse = z.infer<typeof Archive.PublicKeyResponse>;
export type ImportedArchive = z.infer<typeof Archive.ImportedArchive>;
export type ArchiveImportResponse = z.infer<typeof Archive.ImportResponse>;
export type { MeetingReport, CampaignSummary, ImportedReport } from '../../../server/reports/reports.types.ts';

export type InspectionWorkspace = z.infer<typeof Inspection.Workspace>;
export type Talk = z.infer<typeof Inspection.Talk>;
export type DrawInfo = z.infer<typeof Inspection.DrawInfo>;
export type RecordItem = z.infer<typeof Inspection.RecordItem>;
export type Inquiry = z.infer<typeof Inspection.Inquiry>;
export type AppraisalTemplate = z.infer<typeof Inspection.AppraisalTemplate>;
export type InspectionSettings = z.infer<typeof Inspection.InspectionSettings>;
export type DrawBody = z.input<typeof Inspection.DrawBody>;
export type AppraisalBody = z.input<typeof Inspection.AppraisalBody>;
export type ReportBody = z.input<typeof Inspection.ReportBody>;
export type InspectionProgress = z.infer<typeof Inspection.Progress>;
export type InspectionProgressRow = z.infer<typeof Inspection.ProgressRow>;
export type ImportedInspection = z.infer<typeof Inspection.ImportedInspection>;
export type InspectionImportResponse = z.infer<typeof Inspection.InspectionImportResponse>;
export type { ReportModel, ReportSection, ReportTable } from '../../../server/inspection/report.model.ts';

export type ErrorBody = z.infer<typeof ErrorSchema>;
export type { PaperPartPreview } from '../../../server/ballots/paper-preview.ts';
