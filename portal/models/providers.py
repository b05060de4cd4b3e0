"""Providers, their settings (homes and fostering households), vacancies and offers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, IdMixin, TimestampMixin, utcnow

PROVIDER_KINDS = {
    "ifa": "Independent fostering agency",
    "la_fostering": "Local authority fostering service",
    "childrens_home": "Children's home operator",
    "supported_accommodation": "Supported accommodation provider",
}
# Which setting kind each provider kind runs.
SETTING_KIND_FOR_PROVIDER = {
    "ifa": "foster",
    "la_fostering": "foster",
    "childrens_home": "residential",
    "supported_accommodation": "supported",
}
CONTRACTS = {"framework": "Framework", "spot": "Spot purchase"}
VACANCY_STATUSES = ("open", "held", "filled", "withdrawn")
# The codes of portal.matching.vocabulary.DECLINE_REASONS (models import only portal.db; a test keeps the two equal).
DECLINE_REASON_CODES = ("no_vacancy", "needs_not_met", "risk_to_others", "matching", "location", "fee", "other")
OFFER_STATUSES = ("made", "shortlisted", "withdrawn", "declined", "accepted", "not_chosen")


class Provider(IdMixin, TimestampMixin, Base):
    """An organisation that offers placements. Invisible to officers until an administrator approves it."""

    __tablename__ = "provider"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        CheckConstraint("provider_code IN ('PR0','PR1','PR2','PR3','PR4','PR5')", name="provider_code"),
    )

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    provider_code: Mapped[str] = mapped_column(String(3))
    contract: Mapped[str] = mapped_column(String(20), default="spot")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    # LA fostering services belong to one LA; for them the 903 code is PR1 for that LA and PR2 for others.
    la_code: Mapped[str | None] = mapped_column(ForeignKey("local_authority.code"))
    contact_name: Mapped[str | None] = mapped_column(String(120))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # The Ofsted URNs the organisation gave when it registered, so the hub can check them before approving.
    ofsted_urns: Mapped[list] = mapped_column(default=list)
    approved_at: Mapped[datetime | None]

    settings: Mapped[list[Setting]] = relationship(back_populates="provider")


class Setting(IdMixin, TimestampMixin, Base):
    """A place a child can live: a children's home, a supported accommodation service or a fostering household."""

    __tablename__ = "setting"
    __table_args__ = (
        CheckConstraint("kind IN ('foster', 'residential', 'supported')", name="kind"),
        CheckConstraint("age_min <= age_max", name="age_range"),
        CheckConstraint("registered_places >= 0", name="places"),
    )

    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    postcode: Mapped[str] = mapped_column(String(8))
    # The West Midlands LA the postcode lies in, or its district code when outside the region.
    la_code: Mapped[str] = mapped_column(String(9), index=True)
    easting: Mapped[int]
    northing: Mapped[int]
    ofsted_urn: Mapped[str | None] = mapped_column(String(12))
    ofsted_rating: Mapped[str | None] = mapped_column(String(30))
    inspected_on: Mapped[date | None]
    registered_places: Mapped[int]
    age_min: Mapped[int]
    age_max: Mapped[int]
    sexes: Mapped[list] = mapped_column(default=lambda: ["female", "male"])
    needs_met: Mapped[list] = mapped_column(default=list)
    risks_managed: Mapped[list] = mapped_column(default=list)
    languages: Mapped[list] = mapped_column(default=list)
    religions: Mapped[list] = mapped_column(default=list)
    has_pets: Mapped[bool] = mapped_column(default=False)
    takes_siblings: Mapped[bool] = mapped_column(default=True)
    solo_only: Mapped[bool] = mapped_column(default=False)
    fee_gbp_week: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    active: Mapped[bool] = mapped_column(default=True)

    provider: Mapped[Provider] = relationship(back_populates="settings")
    vacancies: Mapped[list[Vacancy]] = relationship(back_populates="setting")


class Vacancy(IdMixin, TimestampMixin, Base):
    """Places free in one setting from a date at a weekly fee. Booked only by an atomic conditional update."""

    __tablename__ = "vacancy"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'held', 'filled', 'withdrawn')", name="status"),
        CheckConstraint("places >= 1", name="places_positive"),
        CheckConstraint("places_taken >= 0 AND places_taken <= places", name="places_taken"),
        Index("ix_vacancy_open", "status", "available_from"),
    )

    setting_id: Mapped[str] = mapped_column(ForeignKey("setting.id"), index=True)
    places: Mapped[int]
    places_taken: Mapped[int] = mapped_column(default=0)
    available_from: Mapped[date]
    available_to: Mapped[date | None]
    fee_gbp_week: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    status: Mapped[str] = mapped_column(String(20), default="open")
    confirmed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    setting: Mapped[Setting] = relationship(back_populates="vacancies")

    @property
    def places_free(self) -> int:
        return self.places - self.places_taken


class Offer(IdMixin, TimestampMixin, Base):
    """A provider's answer to a referral: one vacancy at a weekly fee. Locked once accepted."""

    __tablename__ = "offer"
    __table_args__ = (
        CheckConstraint(
            "status IN ('made', 'shortlisted', 'withdrawn', 'declined', 'accepted', 'not_chosen')", name="status"
        ),
        # At most one accepted offer per placement request, enforced by the database on both engines.
        Index(
            "uq_offer_one_accepted_per_request",
            "request_id",
            unique=True,
            sqlite_where=text("status = 'accepted'"),
            postgresql_where=text("status = 'accepted'"),
        ),
        # One live offer of one vacancy per referral: two people of a provider offering it at once make one.
        Index(
            "uq_offer_live_per_referral_vacancy",
            "referral_id",
            "vacancy_id",
            unique=True,
            sqlite_where=text("status IN ('made', 'shortlisted')"),
            postgresql_where=text("status IN ('made', 'shortlisted')"),
        ),
    )

    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id"), index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("placement_request.id"), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    vacancy_id: Mapped[str] = mapped_column(ForeignKey("vacancy.id"), index=True)
    fee_gbp_week: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    start_date: Mapped[date]
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="made")
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))

    vacancy: Mapped[Vacancy] = relationship()
    provider: Mapped[Provider] = relationship()


class ReferralDecline(IdMixin, Base):
    """A provider's answer "we cannot offer a place for this child", with its reason for the placement officer.

    An answer as much as an offer is: the provider dashboard's response time and "referrals you did not answer"
    count both. At most one per referral.
    """

    __tablename__ = "referral_decline"
    __table_args__ = (
        # The fixed list of portal.matching.vocabulary.DECLINE_REASONS (issue 13 §4; migration 0014_decline_reasons).
        CheckConstraint(f"reason IN ({', '.join(repr(code) for code in DECLINE_REASON_CODES)})", name="reason"),
    )

    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id"), unique=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    # A code of DECLINE_REASONS; "other" comes with the provider's own words in `reason_other`. Declines made
    # before the fixed list became "other" with their free text kept there.
    reason: Mapped[str] = mapped_column(String(30))
    reason_other: Mapped[str | None] = mapped_column(Text)
    declined_by_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    declined_at: Mapped[datetime] = mapped_column(default=utcnow)
