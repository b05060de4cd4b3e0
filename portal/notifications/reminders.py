"""The daily reminders (issue 17 §2): a vacancy about to go stale (to its provider), a placement about to start
(to its officer). `flask notifications remind` runs them, from deploy/jobs.sh once a day.

Each reminder is queued exactly once, however often the step runs and however many hosts run it at once: its
in-app copy carries a `once_key` naming the reminder (the vacancy and when it was last confirmed; the placement's
offer and start date) and the person, under a unique index, and is inserted with ON CONFLICT DO NOTHING. A second
run inserts nothing and so queues no email; on PostgreSQL a run racing another waits at the index for the other's
commit, then inserts nothing. A vacancy confirmed again gets a new key, so it is reminded again before it next
goes stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from portal.db import db, utcnow
from portal.formatting import LONDON, children_summary, format_date
from portal.models import Placement, PlacementRequest, Provider, Setting, User, Vacancy
from portal.notifications.services import link, queue_for_provider, queue_notification


@dataclass
class Reminded:
    vacancies: int = 0
    placements: int = 0


def queue_reminders(now: datetime | None = None) -> Reminded:
    """Queue every reminder that is due at `now` and not queued before; returns how many emails were queued
    (an in-app copy is added for each reminder whatever the person chose for email). Call inside a unit of work."""
    now = now or utcnow()
    return Reminded(vacancies=_vacancies_going_stale(now), placements=_placements_starting(now))


def _vacancies_going_stale(now: datetime) -> int:
    """Open and held vacancies that go stale (not confirmed for VACANCY_STALE_DAYS) within the next
    VACANCY_REMINDER_DAYS: their provider's people who answer referrals are told, once per confirmation."""
    stale_days = int(current_app.config["VACANCY_STALE_DAYS"])
    ahead = int(current_app.config["VACANCY_REMINDER_DAYS"])
    confirmed = func.coalesce(Vacancy.confirmed_at, Vacancy.created_at)
    rows = db.session.execute(
        select(Vacancy, Setting.name, Setting.provider_id)
        .join(Setting, Setting.id == Vacancy.setting_id)
        .join(Provider, Provider.id == Setting.provider_id)
        .where(Vacancy.status.in_(("open", "held")), Setting.active.is_(True),
               confirmed >= now - timedelta(days=stale_days),  # not stale yet ...
               confirmed < now - timedelta(days=stale_days - ahead))  # ... but will be within `ahead` days
        .order_by(Vacancy.id))
    queued = 0
    for vacancy, setting_name, provider_id in rows:
        last = vacancy.confirmed_at or vacancy.created_at
        queued += queue_for_provider(
            provider_id, "vacancy_stale_soon", once=f"vacancy_stale_soon:{vacancy.id}:{last:%Y%m%dT%H%M%S}",
            setting=setting_name, available_from=format_date(vacancy.available_from),
            confirmed_date=format_date(last), stale_date=format_date(last + timedelta(days=stale_days)),
            link=link("providers.vacancies"))
    return queued


def _placements_starting(now: datetime) -> int:
    """Placements that start today or within PLACEMENT_REMINDER_DAYS: the officer who recorded each is told once
    (a sibling group placed by one offer in one message)."""
    today: date = now.astimezone(LONDON).date()
    ahead = int(current_app.config["PLACEMENT_REMINDER_DAYS"])
    placements = list(db.session.scalars(
        select(Placement).where(Placement.start_date >= today, Placement.start_date <= today + timedelta(days=ahead),
                                Placement.end_date.is_(None))
        .order_by(Placement.start_date, Placement.id)))
    groups: dict[tuple, list[Placement]] = {}
    for placement in placements:
        groups.setdefault((placement.offer_id or placement.id, placement.start_date), []).append(placement)
    queued = 0
    for (key, start), members in groups.items():
        first = members[0]
        children = [db.session.get(PlacementRequest, p.request_id) for p in members]
        officer = db.session.get(User, first.recorded_by_id or children[0].created_by_id or "")
        if officer is None:
            continue
        provider = db.session.get(Provider, first.provider_id) if first.provider_id else None
        queued += queue_notification(
            officer, "placement_starting", once_key=f"placement_starting:{key}:{start:%Y%m%d}:{officer.id}",
            provider=provider.name if provider else "a connected person", summary=children_summary(children),
            start_date=format_date(start), link=link("placements.detail", placement_id=first.id)) is not None
    return queued
