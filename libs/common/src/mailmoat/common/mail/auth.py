"""Sender authentication results (SPF, DKIM, DMARC, ARC) recorded on every inbound message."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SpfResultCode = Literal["none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"]
DkimResultCode = Literal["none", "pass", "fail", "neutral", "temperror", "permerror"]
DmarcResultCode = Literal["none", "pass", "fail", "temperror", "permerror"]
ArcResultCode = Literal["none", "pass", "fail"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SpfResult(_Frozen):
    """RFC 7208 check of the envelope sender (or HELO when the sender is null)."""

    result: SpfResultCode = Field(description="SPF result code.")
    domain: str = Field(description="Domain checked: MAIL FROM's domain, or the HELO name.")
    scope: Literal["mailfrom", "helo"] = Field(description="Which identity was checked.")
    explanation: str = Field(default="", description="Explanation or error text, if any.")


class DkimResult(_Frozen):
    """One DKIM-Signature header and whether it verified."""

    result: DkimResultCode = Field(description="Verification result for this signature.")
    domain: str = Field(default="", description="Signing domain (d=), lower case.")
    selector: str = Field(default="", description="Selector (s=).")
    algorithm: str = Field(default="", description="Signature algorithm (a=).")
    reason: str = Field(default="", description="Why it failed, when it did.")


class DmarcResult(_Frozen):
    """RFC 7489 evaluation of the header From domain."""

    result: DmarcResultCode = Field(description="DMARC result code.")
    from_domain: str = Field(default="", description="RFC5322.From domain evaluated.")
    policy: Literal["none", "quarantine", "reject"] | None = Field(
        default=None, description="Policy that applied (p=, sp= or np=), if a record was found."
    )
    disposition: Literal["none", "quarantine", "reject"] = Field(
        default="none", description="What the domain owner asks for this message (pct applied)."
    )
    spf_aligned: bool = Field(default=False, description="SPF passed for an aligned domain.")
    dkim_aligned: bool = Field(default=False, description="A DKIM pass for an aligned domain.")
    reason: str = Field(default="", description="Why, in words (missing From, no record, ...).")


class ArcResult(_Frozen):
    """RFC 8617 chain validation of the ARC sets on the message."""

    result: ArcResultCode = Field(description="Chain validation (cv) result.")
    instances: int = Field(default=0, ge=0, description="Number of ARC sets found.")
    reason: str = Field(default="", description="Why it failed, when it did.")


class AuthenticationResults(_Frozen):
    """Everything ingest learned about who really sent a message."""

    authserv_id: str = Field(description="Our authserv-id, named in Authentication-Results.")
    spf: SpfResult = Field(description="SPF result.")
    dkim: tuple[DkimResult, ...] = Field(default=(), description="One entry per signature.")
    dmarc: DmarcResult = Field(description="DMARC result for the header From domain.")
    arc: ArcResult = Field(description="ARC chain validation.")

    @property
    def authenticated_domain(self) -> str | None:
        """The From domain when DMARC vouches for it; ``None`` means the From is unproven."""
        return self.dmarc.from_domain if self.dmarc.result == "pass" else None
