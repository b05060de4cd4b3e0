"""Placement requests (one child's referral), sibling groups, connected persons, referrals to providers,
placements and placement agreements, and the rankings kept with a request."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, IdMixin, TimestampMixin, utcnow

# Why an officer withdraws a request; the provider-facing outcome names the category, never the officer's words.
WITHDRAWAL_REASONS = {
    "returning_home": "The child is staying with or returning to their family",
    "found_elsewhere": "A placement was found another way",
    "plan_changed": "The child's care plan changed",
    "made_in_error": "The request was made in error or is a duplicate",
    "other": "Another reason",
}

REQUEST_STATUSES = {
    "draft": "Draft",
    "searching": "Searching",
    "offers": "Offers received",
    "placed": "Placed",
    "withdrawn": "Withdrawn",
    "closed": "Closed",
}


class SiblingGroup(IdMixin, TimestampMixin, Base):
    """Placement requests for brothers and sisters, to be placed together in one setting when `together`."""

    __tablename__ = "sibling_group"

    la_code: Mapped[str] = mapped_column(ForeignKey("local_authority.code"), index=True)
    together: Mapped[bool] = mapped_column(default=True)
    # When the plan allows separate placements and the officer split the group on purpose: why, when, by whom.
    split_reason: Mapped[str | None] = mapped_column(Text)
    split_at: Mapped[datetime | None]
    split_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))

    requests: Mapped[list[PlacementRequest]] = relationship(back_populates="sibling_group")


class PlacementRequest(IdMixin, TimestampMixin, Base):
    """One child's referral: needs, risks, location, urgency, budget (Placements Data Standard v2 fields)."""

    __tablename__ = "placement_request"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'searching', 'offers', 'placed', 'withdrawn', 'closed')", name="status"
        ),
        CheckConstraint("urgency IN ('today', 'within_5_days', 'over_5_days')", name="urgency"),
        CheckConstraint(
            "withdrawn_reason IS NULL OR withdrawn_reason IN "
            "('returning_home', 'found_elsewhere', 'plan_changed', 'made_in_error', 'other')",
            name="withdrawn_reason",
        ),
        Index("ix_placement_request_la_status", "la_code", "status"),
        # The officer's list, newest first, one page at a time (issue 11 §4; migration 0006_list_indexes).
        Index("ix_placement_request_la_created", "la_code", "created_at", "id"),
        # An earlier placement of the same child (re-entry to care; duplicates): the LA's requests with this date
        # of birth, or this child reference, read from an index (migration 0010_re_entry_link).
        Index("ix_placement_request_la_date_of_birth", "la_code", "date_of_birth"),
        Index("ix_placement_request_la_child_reference", "la_code", "child_reference"),
    )

    la_code: Mapped[str] = mapped_column(ForeignKey("local_authority.code"))
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # The child (special-category personal data: shown only to officers of this LA, and to the provider whose
    # offer was accepted).
    child_reference: Mapped[str] = mapped_column(String(40))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date]
    sex: Mapped[str] = mapped_column(String(10))
    gender: Mapped[str | None] = mapped_column(String(40))
    ethnicity: Mapped[str | None] = mapped_column(String(60))
    religion: Mapped[str | None] = mapped_column(String(60))
    first_language: Mapped[str | None] = mapped_column(String(60))
    legal_status: Mapped[str | None] = mapped_column(String(10))
    # Where the child comes from, goes to school, and has family; grid points from portal.geo.
    # Nullable only while the request is a draft: submit_request checks every required section is complete.
    home_postcode: Mapped[str | None] = mapped_column(String(8))
    home_easting: Mapped[int | None]
    home_northing: Mapped[int | None]
    school_postcode: Mapped[str | None] = mapped_column(String(8))
    school_easting: Mapped[int | None]
    school_northing: Mapped[int | None]
    keep_school: Mapped[bool] = mapped_column(default=False)
    family_postcode: Mapped[str | None] = mapped_column(String(8))
    family_easting: Mapped[int | None]
    family_northing: Mapped[int | None]
    avoid_las: Mapped[list] = mapped_column(default=list)
    # When (Placements Data Standard: neededBy).
    urgency: Mapped[str | None] = mapped_column(String(20))
    needed_by: Mapped[date | None]
    # PlacementRecommendation: preferred / suitable / unsuitable for each setting type.
    suitability_foster: Mapped[str] = mapped_column(String(12), default="suitable")
    suitability_residential: Mapped[str] = mapped_column(String(12), default="suitable")
    suitability_supported: Mapped[str] = mapped_column(String(12), default="unsuitable")
    # PlacementRequirements and Risks, as vocabulary keys (portal.matching.vocabulary).
    needs: Mapped[list] = mapped_column(default=list)
    risks: Mapped[list] = mapped_column(default=list)
    risk_other: Mapped[str | None] = mapped_column(Text)
    risk_to_others_other: Mapped[str | None] = mapped_column(Text)
    cultural_needs: Mapped[str] = mapped_column(String(20), default="not_known")
    living_companions: Mapped[str] = mapped_column(String(20), default="no_preference")
    pets: Mapped[str] = mapped_column(String(10), default="unknown")
    additional_support_other: Mapped[str | None] = mapped_column(Text)
    budget_gbp_week: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    notes: Mapped[str | None] = mapped_column(Text)
    sibling_group_id: Mapped[str | None] = mapped_column(ForeignKey("sibling_group.id"), index=True)
    # Task-list sections the officer has completed (see portal/requests/sections.py).
    completed_sections: Mapped[list] = mapped_column(default=list)
    submitted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Why the officer withdrew the request (WITHDRAWAL_REASONS), and who; `closed_at` says when. Providers are told
    # the category only: the officer's own words for "another reason" stay with the local authority.
    withdrawn_reason: Mapped[str | None] = mapped_column(String(30))
    withdrawn_reason_other: Mapped[str | None] = mapped_column(Text)
    withdrawn_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))

    sibling_group: Mapped[SiblingGroup | None] = relationship(back_populates="requests")
    connected_persons: Mapped[list[ConnectedPerson]] = relationship(back_populates="request")
    referrals: Mapped[list[Referral]] = relationship(back_populates="request")

    @property
    def child_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: date) -> int:
        """Whole years of age on `day`."""
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


class RequestChange(IdMixin, Base):
    """A change of circumstances to a submitted request: which section changed, by whom, when, and what the
    providers holding its live referrals are told (anonymised, as the referral shows it; None when nothing they
    see changed, e.g. a corrected name or a connected person)."""

    __tablename__ = "request_change"

    request_id: Mapped[str] = mapped_column(ForeignKey("placement_request.id"), index=True)
    section: Mapped[str] = mapped_column(String(30))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    # {"title": section title, "child": "Female, age 12", "details": [[label, new value], ...]}: no name, no date of
    # birth, no full postcode.
    notice: Mapped[dict | None] = mapped_column(default=None)


class ConnectedPerson(IdMixin, TimestampMixin, Base):
    """A relative or friend considered as the child's carer (s22C(6)(a)), with their assessment stage."""

    __tablename__ = "connected_person"
    __table_args__ = (
        CheckConstraint(
            "stage IN ('identified', 'viability', 'temporary_approval', 'approved')", name="stage"
        ),
        CheckConstraint("capacity >= 1", name="capacity"),
    )

    request_id: Mapped[str] = mapped_column(ForeignKey("placement_request.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relationship_to_child: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(8))
    la_code: Mapped[str] = mapped_column(String(9))
    easting: Mapped[int]
    northing: Mapped[int]
    stage: Mapped[str] = mapped_column(String(20), default="identified")
    capacity: Mapped[int] = mapped_column(default=1)
    source: Mapped[str | None] = mapped_column(String(40))

    request: Mapped[PlacementRequest] = relationship(back_populates="connected_persons")


class Referral(IdMixin, TimestampMixin, Base):
    """A placement request as one provider sees it: sent only to providers who can meet the child's needs."""

    __tablename__ = "referral"
    __table_args__ = (
        UniqueConstraint("request_id", "provider_id", name="uq_referral_request_provider"),
        CheckConstraint("status IN ('sent', 'offered', 'declined', 'closed')", name="status"),
    )

    request_id: Mapped[str] = mapped_column(ForeignKey("placement_request.id"), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    sent_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="sent")
    # What the provider is told when the request is placed elsewhere or closed.
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    first_viewed_at: Mapped[datetime | None]

    request: Mapped[PlacementRequest] = relationship(back_populates="referrals")


class Placement(IdMixin, TimestampMixin, Base):
    """The outcome: an accepted offer or a connected-person arrangement, with the SSDA903 fields."""

    __tablename__ = "placement"
    __table_args__ = (
        UniqueConstraint("request_id", name="uq_placement_request"),
        # One offer for a sibling group places every child: one placement per child of that offer.
        UniqueConstraint("offer_id", "request_id", name="uq_placement_offer_request"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
    )

    request_id: Mapped[str] = mapped_column(ForeignKey("placement_request.id"))
    offer_id: Mapped[str | None] = mapped_column(ForeignKey("offer.id"))
    connected_person_id: Mapped[str | None] = mapped_column(ForeignKey("connected_person.id"))
    setting_id: Mapped[str | None] = mapped_column(ForeignKey("setting.id"), index=True)
    provider_id: Mapped[str | None] = mapped_column(ForeignKey("provider.id"), index=True)
    la_code: Mapped[str] = mapped_column(ForeignKey("local_authority.code"), index=True)
    start_date: Mapped[date] = mapped_column(index=True)
    end_date: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(String(10))
    placement_type: Mapped[str] = mapped_column(String(3))
    provider_code: Mapped[str] = mapped_column(String(3))
    weekly_cost_gbp: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    distance_miles: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    inside_la: Mapped[bool]
    over_20_miles: Mapped[bool]
    siblings_placed_together: Mapped[int] = mapped_column(default=0)
    # Placements Data Standard educationContinuity: the child can stay at their school. True when the plan keeps
    # the school and the placement is within the matching policy's school distance (school_far_miles); False when
    # a school is recorded but the plan changes it or the placement is further; None when no school is recorded.
    education_continuity: Mapped[bool | None]
    # Issue 13 §4, counted for commissioners. A deprivation of liberty order (the High Court's inherent
    # jurisdiction, or the Court of Protection for 16 and 17 year olds) authorises the restrictions in this
    # placement: the officer says so when recording (prefilled from the request's need) and can correct it.
    deprivation_of_liberty: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The setting is a children's home or supported accommodation without Ofsted registration (no URN in the
    # portal), where the Care Standards Act 2000 and the 2023 supported accommodation regulations require one.
    # Derived from the setting when the placement is recorded (placement_records.unregistered_setting) and stored,
    # so a later registration does not rewrite history; the officer can correct it.
    unregistered_setting: Mapped[bool] = mapped_column(default=False, server_default=false())
    recorded_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))

    request: Mapped[PlacementRequest] = relationship()


class PlacementAgreement(IdMixin, TimestampMixin, Base):
    """The individual placement agreement, signed in the portal by both sides, then locked."""

    __tablename__ = "placement_agreement"

    placement_id: Mapped[str] = mapped_column(ForeignKey("placement.id"), unique=True)
    terms: Mapped[dict] = mapped_column(default=dict)
    officer_signed_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    officer_signed_name: Mapped[str | None] = mapped_column(String(120))
    officer_signed_at: Mapped[datetime | None]
    provider_signed_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    provider_signed_name: Mapped[str | None] = mapped_column(String(120))
    provider_signed_at: Mapped[datetime | None]
    locked_at: Mapped[datetime | None]

    placement: Mapped[Placement] = relationship()


class MatchRun(IdMixin, Base):
    """The ranking an officer saw when they acted: inputs and output, re-runnable with `python -m portal.matching`."""

    __tablename__ = "match_run"

    request_id: Mapped[str] = mapped_column(ForeignKey("placement_request.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    purpose: Mapped[str] = mapped_column(String(40))
    problem: Mapped[dict] = mapped_column(default=dict)
    result: Mapped[dict] = mapped_column(default=dict)


# How an earlier placement was found to be the same child's (docs/matching.md, "Re-entry to care").
RE_ENTRY_FOUND_BY = {
    "child_reference": "The same child reference",
    "name_and_date_of_birth": "The same date of birth and a similar name",
}
RE_ENTRY_DECISIONS = {"confirmed": "The same child", "dismissed": "Not the same child"}


class ReEntryLink(IdMixin, Base):
    """An officer's decision that an earlier placement in the same LA was (confirmed) or was not (dismissed) this
    request's child. Confirmed links make the request a re-entry to care, which commissioners count; the portal
    only suggests candidates (the LA's child reference, or rapidfuzz on the name with the same date of birth) and
    never links by itself. One decision per request and earlier placement (the unique constraint behind it)."""

    __tablename__ = "re_entry_link"
    __table_args__ = (
        UniqueConstraint("request_id", "placement_id", name="uq_re_entry_link_request_placement"),
        CheckConstraint("status IN ('confirmed', 'dismissed')", name="status"),
        CheckConstraint("found_by IN ('child_reference', 'name_and_date_of_birth')", name="found_by"),
    )

    request_id: Mapped[str] = mapped_column(ForeignKey("placement_request.id"), index=True)
    placement_id: Mapped[str] = mapped_column(ForeignKey("placement.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))
    found_by: Mapped[str] = mapped_column(String(30))
    # The name similarity (0-100, rapidfuzz token sort ratio) when the name was compared; None for a reference match.
    name_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
