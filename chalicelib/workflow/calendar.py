"""Business-hours calendars: when a tenant's team works, and time counted only then.

A :class:`BusinessCalendar` is a weekly schedule in the tenant's IANA time zone
(several :class:`Interval` a day; an interval whose ``end`` is not after its
``start`` is an overnight shift that runs into the next day, ``22:00``-``06:00``)
plus holidays. SLA targets in business time are due when enough *open* time has
passed (:meth:`BusinessCalendar.add_business_time`).

Rules the arithmetic follows:

- Intervals are local wall-clock times. Each shift is turned into one UTC period
  (``datetime(..., tzinfo=zone)``, ``fold=0``): a local time that happens twice
  (the hour clocks go back) means its *first* occurrence; a local time that does
  not exist (the hour clocks skip) is read with the offset before the change, so
  it lands as far after the change as it was after the skipped hour's start
  (02:30 on a 02:00→03:00 spring-forward day is 03:30). Overlapping periods merge.
- A holiday closes the shifts that *start* on that date; an overnight shift that
  started the day before continues into it.
- A search for open time gives up after :data:`MAX_CLOSED_DAYS` days without any
  (:class:`CalendarNeverOpens`); the API refuses such a calendar when it is saved.
- A calendar open all week round the clock without holidays (:data:`CALENDAR_24_7`)
  counts plain elapsed time.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from switchboard_sdk import InvalidInput

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_A_DAY = 24 * 60
MAX_INTERVALS_A_DAY = 12
MAX_HOLIDAYS = 1000
MAX_CLOSED_DAYS = 2 * 366  # no open time for this long: the calendar never opens
_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_END = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
Period = tuple[datetime, datetime]


class CalendarNeverOpens(InvalidInput):
    """No open time within :data:`MAX_CLOSED_DAYS` days of the instant asked about."""


class Interval(BaseModel):
    """One shift: ``start`` to ``end``, local ``HH:MM``. ``end`` at or before ``start``
    runs into the next day (``00:00``-``00:00`` is 24 hours); ``24:00`` ends at midnight."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    start: str = Field(pattern=_HHMM, examples=["09:00"])
    end: str = Field(pattern=_END, examples=["17:30"])

    @property
    def start_minute(self) -> int:
        return _minutes(self.start)

    @property
    def end_minute(self) -> int:
        """Minutes after the start day's midnight (past 1440 for an overnight shift)."""
        end = _minutes(self.end)
        return end + MINUTES_A_DAY if end <= self.start_minute else end

    @property
    def overnight(self) -> bool:
        return self.end_minute > MINUTES_A_DAY


class CalendarSchedule(BaseModel):
    """What an admin sets: name, zone, weekly intervals and holidays (validated)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    time_zone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"])
    week: dict[Weekday, list[Interval]] = Field(
        description="Shifts per weekday (days left out are closed).")
    holidays: list[date] = Field(
        default_factory=list, max_length=MAX_HOLIDAYS,
        description="Dates whose shifts do not start (one started the day before ends as usual).")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError("not an IANA time zone (like Europe/Berlin)") from err
        return value

    @field_validator("holidays")
    @classmethod
    def _sorted_holidays(cls, value: list[date]) -> list[date]:
        return sorted(set(value))

    @model_validator(mode="after")
    def _no_overlaps(self) -> CalendarSchedule:
        for number, day in enumerate(WEEKDAYS):
            shifts = sorted(self.week.get(day, []), key=lambda i: i.start_minute)
            if len(shifts) > MAX_INTERVALS_A_DAY:
                raise ValueError(f"{day}: at most {MAX_INTERVALS_A_DAY} intervals a day")
            for earlier, later in itertools.pairwise(shifts):
                if earlier.end_minute > later.start_minute:
                    raise ValueError(f"{day}: {earlier.start}-{earlier.end} overlaps {later.start}-{later.end}")
            following = self.week.get(WEEKDAYS[(number + 1) % 7], [])
            if shifts and following and shifts[-1].end_minute - MINUTES_A_DAY > min(
                    i.start_minute for i in following):
                raise ValueError(f"{day}: the overnight shift runs into the next day's first shift")
        if not any(self.week.values()):
            raise ValueError("the week needs at least one interval")
        return self


class BusinessCalendar(CalendarSchedule):
    """A stored calendar, and the business-time arithmetic on it. Instants given to
    and returned by the methods are timezone-aware (returned in UTC)."""

    id: str = Field(default="", max_length=64)
    version: int = Field(default=1, ge=1)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    _zone: ZoneInfo = PrivateAttr()
    _holidays: frozenset[date] = PrivateAttr()
    _shifts: dict[int, list[tuple[int, int]]] = PrivateAttr()  # weekday number → (start, end) minutes

    def model_post_init(self, context: object, /) -> None:
        self._zone = ZoneInfo(self.time_zone)
        self._holidays = frozenset(self.holidays)
        self._shifts = {n: sorted((i.start_minute, i.end_minute) for i in self.week.get(day, []))
                        for n, day in enumerate(WEEKDAYS)}

    @property
    def always_open(self) -> bool:
        """Open round the clock every day with no holidays: business time is plain time."""
        return not self._holidays and all(
            self._covers_day(shifts) for shifts in self._shifts.values())

    # -- the three questions -------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        at = _utc(at)
        if self.always_open:
            return True
        start, _ = next(self._periods(at))
        return start <= at

    def add_business_time(self, start: datetime, seconds: int) -> datetime:
        """The instant at which ``seconds`` of open time have passed since ``start``
        (``start`` itself for 0; the end of a period rather than the next one's start)."""
        start = _utc(start)
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        if seconds == 0 or self.always_open:
            return start + timedelta(seconds=seconds)
        left = timedelta(seconds=seconds)
        for begin, end in self._periods(start):
            begin = max(begin, start)
            if end - begin >= left:
                return begin + left
            left -= end - begin
        raise AssertionError("unreachable: _periods either yields for ever or raises")  # pragma: no cover

    def business_seconds_between(self, a: datetime, b: datetime) -> int:
        """Open seconds in ``[a, b)`` (0 when ``b`` is not after ``a``), rounded down."""
        a, b = _utc(a), _utc(b)
        if b <= a:
            return 0
        if self.always_open:
            return int((b - a).total_seconds())
        total = timedelta(0)
        for begin, end in self._periods(a, until=b):
            if begin >= b:
                break
            total += min(end, b) - max(begin, a)
        return int(total.total_seconds())

    # -- open periods, in UTC ------------------------------------------------------

    def _periods(self, after: datetime, until: datetime | None = None) -> Iterator[Period]:
        """The merged open periods that end after ``after``, in order. Without ``until``
        it goes on for ever, raising :class:`CalendarNeverOpens` after a long closed stretch."""
        day = after.astimezone(self._zone).date() - timedelta(days=2)  # overnight shifts, skipped hours
        waiting: list[Period] = []  # shifts made but not merged yet, sorted by start
        current: Period | None = None
        closed_days = 0
        while True:
            made = self._day_periods(day)
            waiting = sorted(waiting + made)
            day += timedelta(days=1)
            # a shift of ``day`` or later starts at or after this instant
            horizon = self._midnight(day - timedelta(days=1))
            while waiting and waiting[0][0] < horizon:
                begin, end = waiting.pop(0)
                if current is not None and begin <= current[1]:
                    current = (current[0], max(current[1], end))
                    continue
                if current is not None and current[1] > after:
                    yield current
                    closed_days = 0
                current = (begin, end)
            if current is not None and current[1] < horizon and (not waiting or waiting[0][0] > current[1]):
                if current[1] > after:
                    yield current
                    closed_days = 0
                current = None
            if until is not None and horizon > until + timedelta(days=1):
                if current is not None and current[1] > after:
                    yield current
                return
            closed_days += 1
            if until is None and closed_days > MAX_CLOSED_DAYS:
                raise CalendarNeverOpens(f"calendar never opens: no open time for {MAX_CLOSED_DAYS} days")

    def _day_periods(self, day: date) -> list[Period]:
        """The UTC periods of the shifts that start on local ``day`` (none on a holiday)."""
        if day in self._holidays:
            return []
        periods = []
        for start, end in self._shifts[day.weekday()]:
            begin = self._local(day, start)
            finish = self._local(day, end)
            if finish > begin:  # a shift inside a skipped hour can come out empty
                periods.append((begin, finish))
        return periods

    def _local(self, day: date, minute: int) -> datetime:
        day += timedelta(days=minute // MINUTES_A_DAY)
        wall = datetime.combine(day, time(minute % MINUTES_A_DAY // 60, minute % 60), tzinfo=self._zone)
        return wall.astimezone(UTC)  # fold=0: see the module's docstring

    def _midnight(self, day: date) -> datetime:
        return self._local(day, 0)

    @staticmethod
    def _covers_day(shifts: list[tuple[int, int]]) -> bool:
        return any(end - start >= MINUTES_A_DAY for start, end in shifts) or (
            bool(shifts) and shifts[0][0] == 0 and shifts[-1][1] >= MINUTES_A_DAY
            and all(a[1] >= b[0] for a, b in itertools.pairwise(shifts)))


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return moment.astimezone(UTC)


CALENDAR_24_7 = BusinessCalendar(
    id="24x7", name="Round the clock", time_zone="UTC",
    week={day: [Interval(start="00:00", end="24:00")] for day in WEEKDAYS})
