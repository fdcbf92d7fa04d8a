"""Models of the Mailmoat API, generated from its OpenAPI document by `make sdk-models`: do not edit."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import (
    AnyUrl,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    RootModel,
)


class AllowlistCreate(BaseModel):
    """
    Request body of ``POST /api/v1/allowlist``.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    address: EmailStr = Field(..., title="Address")
    allow_html: bool | None = Field(False, title="Allow Html")


class AllowlistOut(BaseModel):
    """
    An allowlist row.
    """

    active_from: AwareDatetime = Field(..., title="Active From")
    added_at: AwareDatetime = Field(..., title="Added At")
    address: str = Field(..., title="Address")
    allow_html: bool = Field(..., title="Allow Html")
    id: UUID = Field(..., title="Id")


class AllowlistPage(BaseModel):
    """
    Allowlist rows, oldest first; pass ``next_cursor`` as ``cursor`` for the next page.
    """

    items: list[AllowlistOut] = Field(..., title="Items")
    next_cursor: str | None = Field(..., title="Next Cursor")


class AnalysisOut(BaseModel):
    """
    Everything the pipeline found, for a person: the detectors' reasons may quote the mail.
    """

    attachments: list[dict[str, Any]] = Field(..., title="Attachments")
    authentication: dict[str, Any] | None = Field(..., title="Authentication")
    defects: list[str] = Field(..., title="Defects")
    findings: list[dict[str, Any]] = Field(..., title="Findings")
    id: UUID = Field(..., title="Id")
    quarantine_reason: str | None = Field(..., title="Quarantine Reason")
    status: str = Field(..., title="Status")
    verdicts: list[dict[str, Any]] = Field(..., title="Verdicts")


class ApprovalOut(BaseModel):
    """
    A held send as the reviewer sees it: the draft, policy's risk analysis and checks, why
    it is held, the agent's reasoning and when it will be auto-rejected.
    """

    context_message_ids: list[str] = Field(..., title="Context Message Ids")
    expires_at: AwareDatetime = Field(..., title="Expires At")
    fingerprint: str = Field(..., title="Fingerprint")
    """
    SHA-256 of the draft as shown (recipients, subject, text, HTML): send it with the approval to approve this draft and no other.
    """
    held_reasons: list[str] = Field(..., title="Held Reasons")
    html: str | None = Field(..., title="Html")
    id: UUID = Field(..., title="Id")
    in_reply_to: UUID | None = Field(..., title="In Reply To")
    inbox: str = Field(..., title="Inbox")
    policy_checks: list[str] = Field(..., title="Policy Checks")
    reasoning: str | None = Field(..., title="Reasoning")
    requested_at: AwareDatetime = Field(..., title="Requested At")
    risk_reasons: list[str] = Field(..., title="Risk Reasons")
    risk_score: int = Field(..., title="Risk Score")
    source: str = Field(..., title="Source")
    subject: str = Field(..., title="Subject")
    text: str = Field(..., title="Text")
    to: list[str] = Field(..., title="To")


class ApprovalSummary(BaseModel):
    """
    A held send in the queue: enough to choose which to open (``GET /approvals/{id}`` has
    the draft, the agent's reasoning and policy's checks).
    """

    expires_at: AwareDatetime = Field(..., title="Expires At")
    held_reasons: list[str] = Field(..., title="Held Reasons")
    id: UUID = Field(..., title="Id")
    inbox: str = Field(..., title="Inbox")
    outbound_id: UUID = Field(..., title="Outbound Id")
    """
    The send's id (``GET /outbound/{id}``).
    """
    requested_at: AwareDatetime = Field(..., title="Requested At")
    risk_reasons: list[str] = Field(..., title="Risk Reasons")
    risk_score: int = Field(..., title="Risk Score")
    security_level: str = Field(..., title="Security Level")
    """
    The inbox's level (L4 holds every send).
    """
    size_bytes: int = Field(..., title="Size Bytes")
    """
    UTF-8 size of the draft: subject, text and HTML.
    """
    subject: str = Field(..., title="Subject")
    to: list[str] = Field(..., title="To")


class Fingerprint(RootModel[str]):
    root: str = Field(..., pattern="^[0-9a-f]{64}$", title="Fingerprint")
    """
    The held send's ``fingerprint`` as the reviewer saw it: if the draft has changed since, the approval is refused (409 ``draft_changed``).
    """


class Html(RootModel[str]):
    root: str = Field(..., max_length=1000000, title="Html")


class Note(RootModel[str]):
    root: str = Field(..., max_length=2000, title="Note")


class Subject(RootModel[str]):
    root: str = Field(..., max_length=998, title="Subject")


class Text(RootModel[str]):
    root: str = Field(..., max_length=1000000, title="Text")


class To(RootModel[list[EmailStr]]):
    root: list[EmailStr] = Field(..., max_length=50, min_length=1, title="To")


class ApproveRequest(BaseModel):
    """
    Approve as drafted, or with edits (each field replaces the draft's); ``note`` is kept
    with the decision.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    fingerprint: Fingerprint | None = Field(None, title="Fingerprint")
    """
    The held send's ``fingerprint`` as the reviewer saw it: if the draft has changed since, the approval is refused (409 ``draft_changed``).
    """
    html: Html | None = Field(None, title="Html")
    note: Note | None = Field(None, title="Note")
    subject: Subject | None = Field(None, title="Subject")
    text: Text | None = Field(None, title="Text")
    to: To | None = Field(None, title="To")


class AuditOut(BaseModel):
    """
    One audit row: subjects appear only as their SHA-256.
    """

    action: str = Field(..., title="Action")
    actor: str = Field(..., title="Actor")
    created_at: AwareDatetime = Field(..., title="Created At")
    detail: dict[str, Any] | None = Field(None, title="Detail")
    id: UUID = Field(..., title="Id")
    prev_sha256: str | None = Field(None, title="Prev Sha256")
    provider: str | None = Field(None, title="Provider")
    row_sha256: str | None = Field(None, title="Row Sha256")
    seq: int | None = Field(None, title="Seq")
    source: str = Field(..., title="Source")
    subject_sha256: str | None = Field(..., title="Subject Sha256")
    target: str = Field(..., title="Target")


class AuditPage(BaseModel):
    """
    A page of audit rows; pass ``next_cursor`` as ``cursor`` for the next, older page.
    """

    items: list[AuditOut] = Field(..., title="Items")
    next_cursor: str | None = Field(..., title="Next Cursor")


class BrokenLink(BaseModel):
    """
    Where the chain first fails to hold.
    """

    reason: str = Field(..., title="Reason")
    row_id: UUID | None = Field(..., title="Row Id")
    seq: int = Field(..., title="Seq")


class ChainHead(BaseModel):
    seq: int = Field(..., title="Seq")
    sha256: str = Field(..., title="Sha256")


class CreditOut(BaseModel):
    """
    One ledger entry: negative for a charge, with the message or send it paid for.
    """

    amount: int = Field(..., title="Amount")
    balance_after: int = Field(..., title="Balance After")
    created_at: AwareDatetime = Field(..., title="Created At")
    id: UUID = Field(..., title="Id")
    overage_after: int = Field(..., title="Overage After")
    reason: str = Field(..., title="Reason")
    ref_id: UUID | None = Field(..., title="Ref Id")


class CreditPage(BaseModel):
    """
    The month's credits and a page of the ledger, newest first; ``next_cursor`` goes on.

    The plan gives ``allowance`` credits per calendar month (UTC); charges draw ``balance``
    down from it. At 0 nothing is refused or left unscanned: usage beyond the allowance is
    ``overage`` and ``over_allowance`` is true until ``resets_at``.
    """

    allowance: int = Field(..., title="Allowance")
    balance: int = Field(..., title="Balance")
    items: list[CreditOut] = Field(..., title="Items")
    next_cursor: str | None = Field(..., title="Next Cursor")
    over_allowance: bool = Field(..., title="Over Allowance")
    overage: int = Field(..., title="Overage")
    period: str = Field(..., title="Period")
    plan: str = Field(..., title="Plan")
    resets_at: AwareDatetime = Field(..., title="Resets At")
    used: int = Field(..., title="Used")


class FindingOut(BaseModel):
    """
    A finding as an agent may read it: what fired, and where; never the text it matched.
    """

    code: str = Field(..., title="Code")
    end: int = Field(..., title="End")
    part: str = Field(..., title="Part")
    start: int = Field(..., title="Start")


class AllowedRecipientDomain(RootModel[str]):
    root: str = Field(
        ...,
        max_length=253,
        pattern="^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$",
    )


class AllowedRecipientDomains(RootModel[list[AllowedRecipientDomain]]):
    root: list[AllowedRecipientDomain] = Field(
        ..., max_length=500, min_length=1, title="Allowed Recipient Domains"
    )
    """
    Only these domains (and their subdomains) may be mailed; null lifts it.
    """


class ApprovalTimeoutSeconds(RootModel[int]):
    root: int = Field(..., ge=300, le=604800, title="Approval Timeout Seconds")


class BlockedKeyword(RootModel[str]):
    root: str = Field(..., max_length=200, min_length=1, pattern="^[^\\x00]*[^\\s\\x00][^\\x00]*$")


class BlockedKeywords(RootModel[list[BlockedKeyword]]):
    root: list[BlockedKeyword] = Field(..., max_length=500, title="Blocked Keywords")
    """
    Sends containing any of these words or phrases are rejected.
    """


class DailySendLimit(RootModel[int]):
    root: int = Field(..., ge=1, le=500, title="Daily Send Limit")


class HourlySendLimit(RootModel[int]):
    root: int = Field(..., ge=1, le=500, title="Hourly Send Limit")


class SenderAllowlistItem(RootModel[str]):
    root: str = Field(
        ...,
        max_length=320,
        pattern="^(?:[^@\\s\\x00-\\x1f\\x7f]{1,64}@)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$",
    )


class SenderAllowlist(RootModel[list[SenderAllowlistItem]]):
    root: list[SenderAllowlistItem] = Field(..., max_length=500, title="Sender Allowlist")


class SenderBlocklistItem(RootModel[str]):
    root: str = Field(
        ...,
        max_length=320,
        pattern="^(?:[^@\\s\\x00-\\x1f\\x7f]{1,64}@)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$",
    )


class SenderBlocklist(RootModel[list[SenderBlocklistItem]]):
    root: list[SenderBlocklistItem] = Field(..., max_length=500, title="Sender Blocklist")


class WebhookUrl(RootModel[AnyUrl]):
    root: AnyUrl = Field(..., title="Webhook Url")


class InboxCreate(BaseModel):
    """
    Request body of ``POST /api/v1/inboxes``.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    allowed_recipient_domains: AllowedRecipientDomains | None = Field(
        None, title="Allowed Recipient Domains"
    )
    """
    Only these domains (and their subdomains) may be mailed; null lifts it.
    """
    approval_timeout_seconds: ApprovalTimeoutSeconds | None = Field(
        None, title="Approval Timeout Seconds"
    )
    blocked_keywords: BlockedKeywords | None = Field(None, title="Blocked Keywords")
    """
    Sends containing any of these words or phrases are rejected.
    """
    canary: bool | None = Field(None, title="Canary")
    """
    Place a canary token in every mail stored for the inbox (true makes one if there is none; false removes it): a send or webhook URL carrying it is refused.
    """
    daily_send_limit: DailySendLimit | None = Field(None, title="Daily Send Limit")
    data_leak_action: Literal["hold", "reject"] | None = Field(None, title="Data Leak Action")
    """
    What a send carrying a secret or a large copy of inbound mail does: held for a person (hold, the default) or refused (reject).
    """
    data_leak_exempt: (
        list[
            Literal[
                "private_key",
                "api_key",
                "card_number",
                "iban",
                "national_id",
                "password",
                "inbound_copy",
            ]
        ]
        | None
    ) = Field(None, title="Data Leak Exempt")
    """
    Kinds of data leak that only raise the send's risk score for this inbox (an invoicing agent sends IBANs); the caps are never touched.
    """
    hourly_send_limit: HourlySendLimit | None = Field(None, title="Hourly Send Limit")
    security_level: Literal["L1", "L2", "L3", "L4"] | None = Field("L2", title="Security Level")
    sender_allowlist: SenderAllowlist | None = Field(None, title="Sender Allowlist")
    sender_blocklist: SenderBlocklist | None = Field(None, title="Sender Blocklist")
    slug: str = Field(..., pattern="^[a-z0-9](?:[a-z0-9.-]{0,62}[a-z0-9])?$", title="Slug")
    webhook_url: WebhookUrl | None = Field(None, title="Webhook Url")


class InboxOut(BaseModel):
    """
    An inbox as the API shows it.
    """

    address: str = Field(..., title="Address")
    allowed_recipient_domains: list[str] | None = Field(..., title="Allowed Recipient Domains")
    approval_timeout_seconds: int = Field(..., title="Approval Timeout Seconds")
    blocked_keywords: list[str] = Field(..., title="Blocked Keywords")
    canary_token: str | None = Field(..., title="Canary Token")
    """
    The marker at the end of every mail stored for the inbox since it was set.
    """
    created_at: AwareDatetime = Field(..., title="Created At")
    daily_send_limit: int | None = Field(..., title="Daily Send Limit")
    data_leak_action: str = Field(..., title="Data Leak Action")
    data_leak_exempt: list[str] = Field(..., title="Data Leak Exempt")
    hourly_send_limit: int | None = Field(..., title="Hourly Send Limit")
    id: UUID = Field(..., title="Id")
    security_level: str = Field(..., title="Security Level")
    sender_allowlist: list[str] = Field(..., title="Sender Allowlist")
    sender_blocklist: list[str] = Field(..., title="Sender Blocklist")
    sending_status: str = Field(..., title="Sending Status")
    sending_status_until: AwareDatetime | None = Field(None, title="Sending Status Until")
    slug: str = Field(..., title="Slug")
    webhook_url: str | None = Field(..., title="Webhook Url")


class InboxPage(BaseModel):
    """
    Inboxes, oldest first; pass ``next_cursor`` as ``cursor`` for the next page.
    """

    items: list[InboxOut] = Field(..., title="Items")
    next_cursor: str | None = Field(..., title="Next Cursor")


class AllowedRecipientDomains1Item(RootModel[str]):
    root: str = Field(
        ...,
        max_length=253,
        pattern="^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$",
    )


class AllowedRecipientDomains1(RootModel[list[AllowedRecipientDomains1Item]]):
    root: list[AllowedRecipientDomains1Item] = Field(
        ..., max_length=500, min_length=1, title="Allowed Recipient Domains"
    )
    """
    Only these domains (and their subdomains) may be mailed; null lifts it.
    """


class BlockedKeywords1Item(RootModel[str]):
    root: str = Field(..., max_length=200, min_length=1, pattern="^[^\\x00]*[^\\s\\x00][^\\x00]*$")


class BlockedKeywords1(RootModel[list[BlockedKeywords1Item]]):
    root: list[BlockedKeywords1Item] = Field(..., max_length=500, title="Blocked Keywords")
    """
    Sends containing any of these words or phrases are rejected.
    """


class SenderAllowlist1Item(RootModel[str]):
    root: str = Field(
        ...,
        max_length=320,
        pattern="^(?:[^@\\s\\x00-\\x1f\\x7f]{1,64}@)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$",
    )


class SenderAllowlist1(RootModel[list[SenderAllowlist1Item]]):
    root: list[SenderAllowlist1Item] = Field(..., max_length=500, title="Sender Allowlist")


class SenderBlocklist1Item(RootModel[str]):
    root: str = Field(
        ...,
        max_length=320,
        pattern="^(?:[^@\\s\\x00-\\x1f\\x7f]{1,64}@)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$",
    )


class SenderBlocklist1(RootModel[list[SenderBlocklist1Item]]):
    root: list[SenderBlocklist1Item] = Field(..., max_length=500, title="Sender Blocklist")


class InboxPatch(BaseModel):
    """
    Request body of ``PATCH /api/v1/inboxes/{slug}``; ``webhook_url: null`` removes it.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    allowed_recipient_domains: AllowedRecipientDomains1 | None = Field(
        None, title="Allowed Recipient Domains"
    )
    """
    Only these domains (and their subdomains) may be mailed; null lifts it.
    """
    approval_timeout_seconds: ApprovalTimeoutSeconds | None = Field(
        None, title="Approval Timeout Seconds"
    )
    blocked_keywords: BlockedKeywords1 | None = Field(None, title="Blocked Keywords")
    """
    Sends containing any of these words or phrases are rejected.
    """
    canary: bool | None = Field(None, title="Canary")
    """
    Place a canary token in every mail stored for the inbox (true makes one if there is none; false removes it): a send or webhook URL carrying it is refused.
    """
    daily_send_limit: DailySendLimit | None = Field(None, title="Daily Send Limit")
    data_leak_action: Literal["hold", "reject"] | None = Field(None, title="Data Leak Action")
    """
    What a send carrying a secret or a large copy of inbound mail does: held for a person (hold, the default) or refused (reject).
    """
    data_leak_exempt: (
        list[
            Literal[
                "private_key",
                "api_key",
                "card_number",
                "iban",
                "national_id",
                "password",
                "inbound_copy",
            ]
        ]
        | None
    ) = Field(None, title="Data Leak Exempt")
    """
    Kinds of data leak that only raise the send's risk score for this inbox (an invoicing agent sends IBANs); the caps are never touched.
    """
    hourly_send_limit: HourlySendLimit | None = Field(None, title="Hourly Send Limit")
    security_level: Literal["L1", "L2", "L3", "L4"] | None = Field(None, title="Security Level")
    sender_allowlist: SenderAllowlist1 | None = Field(None, title="Sender Allowlist")
    sender_blocklist: SenderBlocklist1 | None = Field(None, title="Sender Blocklist")
    webhook_url: WebhookUrl | None = Field(None, title="Webhook Url")


class KeyCreate(BaseModel):
    """
    Request body of ``POST /api/v1/keys``: literal scopes and presets (``read-only``,
    ``full-access``); no preset includes ``write:mail.send``, which must be named, and a key
    with it (an agent's) may not also approve, release, reinstate, administer, or change
    inboxes or the allowlist (a person's).
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    name: str = Field(..., max_length=200, min_length=1, title="Name")
    scopes: list[str] = Field(..., max_length=20, min_length=1, title="Scopes")


class KeyCreated(BaseModel):
    """
    A new key; ``token`` is shown in this response only.
    """

    created_at: AwareDatetime = Field(..., title="Created At")
    id: UUID = Field(..., title="Id")
    last_used_at: AwareDatetime | None = Field(..., title="Last Used At")
    name: str = Field(..., title="Name")
    prefix: str = Field(..., title="Prefix")
    revoked_at: AwareDatetime | None = Field(..., title="Revoked At")
    scopes: list[str] = Field(..., title="Scopes")
    token: str = Field(..., title="Token")


class KeyOut(BaseModel):
    """
    A key as listed: never its secret.
    """

    created_at: AwareDatetime = Field(..., title="Created At")
    id: UUID = Field(..., title="Id")
    last_used_at: AwareDatetime | None = Field(..., title="Last Used At")
    name: str = Field(..., title="Name")
    prefix: str = Field(..., title="Prefix")
    revoked_at: AwareDatetime | None = Field(..., title="Revoked At")
    scopes: list[str] = Field(..., title="Scopes")


class KeyPage(BaseModel):
    """
    Keys, oldest first; pass ``next_cursor`` as ``cursor`` for the next page.
    """

    items: list[KeyOut] = Field(..., title="Items")
    next_cursor: str | None = Field(..., title="Next Cursor")


class OutboundOut(BaseModel):
    """
    Where an outbound message stands: ``queued`` (approved, on its way), ``pending_approval``
    (held for a person), ``rejected`` (with the violated rule in ``error``), ``sent`` or
    ``failed`` (with the relay's reply).
    """

    credits_consumed: int = Field(..., title="Credits Consumed")
    error: dict[str, str] | None = Field(None, title="Error")
    id: UUID = Field(..., title="Id")
    risk_score: int = Field(..., title="Risk Score")
    status: str = Field(..., title="Status")


class Problem(BaseModel):
    """
    An RFC 9457 problem document as the API sends it (``application/problem+json``).
    """

    model_config = ConfigDict(
        extra="allow",
    )
    code: str = Field(..., title="Code")
    """
    Stable machine-readable error code.
    """
    detail: str = Field(..., title="Detail")
    errors: list[dict[str, Any]] | None = Field(None, title="Errors")
    """
    Validation errors: each one's ``field`` (a dotted path such as ``to[0]`` or ``metadata.reasoning``; a query parameter or header by its name), ``loc`` (where FastAPI found it), ``msg`` and ``type``.
    """
    status: int = Field(..., title="Status")
    title: str = Field(..., title="Title")
    type: str = Field(..., title="Type")


class ReinstateRequest(BaseModel):
    """
    Why the sender may send again (kept in the audit log).
    """

    reason: str | None = Field("", max_length=1000, title="Reason")


class RejectRequest(BaseModel):
    """
    Why the send may not leave; the agent is told.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    reason: str = Field(..., max_length=2000, min_length=1, title="Reason")


class Reasoning(RootModel[str]):
    root: str = Field(..., max_length=10000, title="Reasoning")


class SendMetadata(BaseModel):
    """
    What the agent tells the reviewer about a send.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    context_message_ids: list[UUID] | None = Field(None, max_length=50, title="Context Message Ids")
    reasoning: Reasoning | None = Field(None, title="Reasoning")


class SendRequest(BaseModel):
    """
    Request body of the Send API: recipients, subject, a plain-text body, and optionally HTML
    (sent only to recipients allowed HTML), the inbound message it answers and metadata.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    attachments: Any | None = Field(None, title="Attachments")
    """
    Not supported: always refused.
    """
    bcc: Any | None = Field(None, title="Bcc")
    """
    Not supported: always refused.
    """
    cc: Any | None = Field(None, title="Cc")
    """
    Not supported: always refused.
    """
    html: Html | None = Field(None, title="Html")
    in_reply_to: UUID | None = Field(None, title="In Reply To")
    """
    An inbound message id.
    """
    metadata: SendMetadata | None = None
    subject: str = Field(..., max_length=998, title="Subject")
    text: str = Field(..., max_length=1000000, title="Text")
    to: list[EmailStr] = Field(..., max_length=50, min_length=1, title="To")


class SenderOut(BaseModel):
    """
    One external sender (an address, or a whole domain) of an inbox.
    """

    dmarc_fail: int = Field(..., title="Dmarc Fail")
    dmarc_pass: int = Field(..., title="Dmarc Pass")
    first_seen: AwareDatetime = Field(..., title="First Seen")
    kind: Literal["address", "domain"] = Field(..., title="Kind")
    last_dmarc: str = Field(..., title="Last Dmarc")
    last_seen: AwareDatetime = Field(..., title="Last Seen")
    messages: int = Field(..., title="Messages")
    passed: int = Field(..., title="Passed")
    released: int = Field(..., title="Released")
    reviewed: int = Field(..., title="Reviewed")
    sender: str = Field(..., title="Sender")
    withheld: int = Field(..., title="Withheld")


class SenderPage(BaseModel):
    """
    Senders heard from most recently first; pass ``next_cursor`` as ``cursor`` for more.
    """

    items: list[SenderOut] = Field(..., title="Items")
    next_cursor: str | None = Field(..., title="Next Cursor")


class SpotlightOut(BaseModel):
    """
    The body datamarked, with the sentence to put in the agent's system prompt.
    """

    instructions: str = Field(..., title="Instructions")
    marker: str = Field(..., title="Marker")
    text: str = Field(..., title="Text")


class StandingOut(BaseModel):
    """
    A sender's standing after the call.
    """

    reason: str = Field(..., title="Reason")
    sending_status: str = Field(..., title="Sending Status")


class ValidationError(BaseModel):
    ctx: dict[str, Any] | None = Field(None, title="Context")
    input: Any | None = Field(None, title="Input")
    loc: list[str | int] = Field(..., title="Location")
    msg: str = Field(..., title="Message")
    type: str = Field(..., title="Error Type")


class VerdictOut(BaseModel):
    """
    One detector's verdict, its findings as codes and spans.
    """

    coverage: list[str] = Field(..., title="Coverage")
    detector: str = Field(..., title="Detector")
    detector_name: str = Field(..., title="Detector Name")
    detector_version: str = Field(..., title="Detector Version")
    error: str | None = Field(..., title="Error")
    """
    The kind of failure when the detector failed.
    """
    findings: list[FindingOut] = Field(..., title="Findings")
    findings_dropped: int | None = Field(0, title="Findings Dropped")
    flagged: bool = Field(..., title="Flagged")
    latency_ms: float = Field(..., title="Latency Ms")
    score: int = Field(..., title="Score")
    shadow: bool = Field(..., title="Shadow")


class Event(RootModel[str]):
    root: str = Field(..., max_length=100)


class Events(RootModel[list[Event]]):
    root: list[Event] = Field(..., max_length=50, min_length=1, title="Events")


class WebhookCreate(BaseModel):
    """
    Request body of ``POST /api/v1/webhooks``; ``events`` defaults to every event of the
    kind.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    events: Events | None = Field(None, title="Events")
    format: Literal["json", "slack", "discord", "telegram"] | None = Field("json", title="Format")
    kind: Literal["message", "audit"] | None = Field("message", title="Kind")
    url: AnyUrl = Field(..., title="Url")


class WebhookCreated(BaseModel):
    """
    A new endpoint; ``secret`` (Standard Webhooks ``whsec_`` form) is shown here only.
    """

    created_at: AwareDatetime = Field(..., title="Created At")
    disabled_at: AwareDatetime | None = Field(..., title="Disabled At")
    disabled_reason: str | None = Field(..., title="Disabled Reason")
    events: list[str] = Field(..., title="Events")
    format: str = Field(..., title="Format")
    id: UUID = Field(..., title="Id")
    kind: str = Field(..., title="Kind")
    secret: str = Field(..., title="Secret")
    url: str = Field(..., title="Url")


class WebhookOut(BaseModel):
    """
    An endpoint as listed: never its secret.
    """

    created_at: AwareDatetime = Field(..., title="Created At")
    disabled_at: AwareDatetime | None = Field(..., title="Disabled At")
    disabled_reason: str | None = Field(..., title="Disabled Reason")
    events: list[str] = Field(..., title="Events")
    format: str = Field(..., title="Format")
    id: UUID = Field(..., title="Id")
    kind: str = Field(..., title="Kind")
    url: str = Field(..., title="Url")


class WebhookPage(BaseModel):
    """
    Webhook endpoints, oldest first; pass ``next_cursor`` as ``cursor`` for the next page.
    """

    items: list[WebhookOut] = Field(..., title="Items")
    next_cursor: str | None = Field(..., title="Next Cursor")


class WebhookSecretOut(BaseModel):
    """
    An inbox's webhook signing secret, shown once.
    """

    generation: int = Field(..., title="Generation")
    """
    How many times the secret was rotated.
    """
    inbox: str = Field(..., title="Inbox")
    """
    The inbox's slug.
    """
    secret: str = Field(..., title="Secret")
    """
    Standard Webhooks form: ``whsec_`` and base64.
    """


class WithheldOut(BaseModel):
    """
    A withheld message: that it exists, who sent it and why, so the agent can ask a person
    to release it. Never its subject, text, HTML or attachments, nor what the detectors found
    in it (a person reads those through ``/analysis`` and ``/raw``, audited).
    """

    consensus: str = Field(..., title="Consensus")
    from_address: str = Field(..., title="From Address")
    id: UUID = Field(..., title="Id")
    inbox_id: UUID = Field(..., title="Inbox Id")
    received_at: AwareDatetime = Field(..., title="Received At")
    risk_reasons: list[str] = Field(..., title="Risk Reasons")
    """
    Sender-graph signals, as codes only.
    """
    risk_score: int = Field(..., title="Risk Score")
    status: Literal["withheld"] = Field("withheld", title="Status")
    subject_sha256: str = Field(..., title="Subject Sha256")
    """
    SHA-256 of the subject, hex: never the subject.
    """
    thread_id: UUID | None = Field(..., title="Thread Id")
    withheld_reason: str | None = Field(..., title="Withheld Reason")
    """
    Why it is withheld: codes such as detectors, malware.eicar, blocked_sender, analysis_failed, lookalike_domain.
    """


class WorkspaceOut(BaseModel):
    """
    A workspace as the API shows it.
    """

    created_at: AwareDatetime = Field(..., title="Created At")
    id: UUID = Field(..., title="Id")
    name: str = Field(..., title="Name")
    outbound_enabled: bool = Field(..., title="Outbound Enabled")
    plan: str = Field(..., title="Plan")
    sending_status: str | None = Field("active", title="Sending Status")
    sending_status_until: AwareDatetime | None = Field(None, title="Sending Status Until")


class Name(RootModel[str]):
    root: str = Field(..., max_length=200, min_length=1, title="Name")


class WorkspacePatch(BaseModel):
    """
    Request body of ``PATCH /api/v1/workspace``; ``outbound_enabled: false`` is the kill
    switch, checked again by dispatch at the moment of sending.
    """

    model_config = ConfigDict(
        extra="forbid",
    )
    name: Name | None = Field(None, title="Name")
    outbound_enabled: bool | None = Field(None, title="Outbound Enabled")


class ApprovalPage(BaseModel):
    """
    Held sends, oldest first; pass ``next_cursor`` as ``cursor`` for the next page.
    """

    items: list[ApprovalSummary] = Field(..., title="Items")
    next_cursor: str | None = Field(..., title="Next Cursor")


class ChainCheck(BaseModel):
    """
    The workspace's audit chain, checked from its first row: every row's hash, every link,
    every place, and every checkpoint's signature and head.
    """

    checkpoints_verified: int = Field(..., title="Checkpoints Verified")
    first_broken_link: BrokenLink | None
    head: ChainHead
    intact: bool = Field(..., title="Intact")
    rows_checked: int = Field(..., title="Rows Checked")
    unsealed_rows: int = Field(..., title="Unsealed Rows")
    workspace_id: UUID = Field(..., title="Workspace Id")


class HTTPValidationError(BaseModel):
    detail: list[ValidationError] | None = Field(None, title="Detail")


class MessageOut(BaseModel):
    """
    A delivered or review message as an agent may read it (``mailmoat.common.mail.exposure``;
    withheld mail is a ``WithheldOut`` instead). The detail view adds the verdicts, ingest's
    findings and the authentication results.
    """

    authentication: dict[str, Any] | None = Field(None, title="Authentication")
    consensus: str = Field(..., title="Consensus")
    findings: list[FindingOut] | None = Field(None, title="Findings")
    from_address: str = Field(..., title="From Address")
    id: UUID = Field(..., title="Id")
    inbox_id: UUID = Field(..., title="Inbox Id")
    received_at: AwareDatetime = Field(..., title="Received At")
    risk_reasons: list[str] | None = Field(None, title="Risk Reasons")
    """
    Sender-graph signals in the risk (first contact, look-alike domain...); codes only while the message is withheld.
    """
    risk_score: int = Field(..., title="Risk Score")
    spotlight: SpotlightOut | None = None
    status: str = Field(..., title="Status")
    subject: str | None = Field(..., title="Subject")
    subject_sha256: str = Field(..., title="Subject Sha256")
    text: str | None = Field(..., title="Text")
    thread_id: UUID | None = Field(..., title="Thread Id")
    verdicts: list[VerdictOut] | None = Field(None, title="Verdicts")
    withheld_reason: str | None = Field(..., title="Withheld Reason")
    """
    Why it is withheld: codes such as detectors, malware.eicar, blocked_sender, analysis_failed, lookalike_domain.
    """


class MessagePage(BaseModel):
    """
    A page of messages, newest first; pass ``next_cursor`` as ``cursor`` for the next.
    """

    items: list[MessageOut | WithheldOut] = Field(..., title="Items")
    next_cursor: str | None = Field(..., title="Next Cursor")


class ThreadOut(BaseModel):
    """
    A conversation's inbound messages, oldest first.
    """

    id: UUID = Field(..., title="Id")
    messages: list[MessageOut | WithheldOut] = Field(..., title="Messages")
