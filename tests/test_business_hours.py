"""Business-hours arithmetic (chalicelib/workflow/calendar.py) against a minute-by-minute
reference: random weekly schedules (several shifts a day, overnight shifts), holidays,
and zones whose clocks change (Berlin, New York, Lord Howe's 30-minute change,
Shanghai without changes), starting around the changes."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.workflow.calendar import (
    CALENDAR_24_7,
    MINUTES_A_DAY,
    WEEKDAYS,
    BusinessCalendar,
    CalendarNeverOpens,
    Interval,
)

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Shanghai")
MINUTE = timedelta(minutes=1)
WINDOW_DAYS = 12
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                             HealthCheck.too_slow])


# -- the reference: which UTC minutes are open, shift by shift ------------------------------

def reference_open_minutes(calendar: BusinessCalendar, start: datetime, days: int) -> list[datetime]:
    """Every open minute in ``[start, start + days)``: each shift (of each local day, not a
    holiday) becomes local start/end → UTC (fold=0), and every minute inside is open."""
    zone = ZoneInfo(calendar.time_zone)
    end = start + timedelta(days=days)
    first = start.astimezone(zone).date() - timedelta(days=3)
    open_minutes: set[datetime] = set()
    for offset in range(days + 6):
        day = first + timedelta(days=offset)
        if day in calendar.holidays:
            continue
        for shift in calendar.week.get(WEEKDAYS[day.weekday()], []):
            begin = _wall(day, shift.start_minute, zone)
            finish = _wall(day, shift.end_minute, zone)
            minute = begin
            while minute < finish:
                if start <= minute < end:
                    open_minutes.add(minute)
                minute += MINUTE
    return sorted(open_minutes)


def _wall(day: date, minute: int, zone: ZoneInfo) -> datetime:
    day += timedelta(days=minute // MINUTES_A_DAY)
    return datetime.combine(day, time(minute % MINUTES_A_DAY // 60, minute % 60), tzinfo=zone).astimezone(UTC)


@functools.cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """The instants in 2024-2025 at which the zone's UTC offset changes (to the minute, by bisection)."""
    zone = ZoneInfo(zone_name)
    found = []
    hour = datetime(2024, 1, 1, tzinfo=UTC)
    while hour.year < 2026:
        after = hour + timedelta(hours=1)
        if hour.astimezone(zone).utcoffset() != after.astimezone(zone).utcoffset():
            low, high = hour, after
            while high - low > MINUTE:
                middle = low + (high - low) / 2
                middle = middle.replace(second=0, microsecond=0)
                if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = middle if middle > low else low + MINUTE
                else:
                    high = middle
            found.append(high)
        hour = after
    return tuple(found)


# -- strategies ---------------------------------------------------------------------------

def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def day_shifts(draw: st.DrawFn) -> list[Interval]:
    """0-3 shifts; the last may run overnight (ending by 06:00 so the next day stays free early)."""
    count = draw(st.integers(0, 3))
    points = sorted(draw(st.sets(st.integers(0, 95).map(lambda q: q * 15), min_size=2 * count, max_size=2 * count)))
    shifts = [Interval(start=_hhmm(points[2 * n]), end=_hhmm(points[2 * n + 1])) for n in range(count)]
    overnight: bool = draw(st.booleans())
    if shifts and overnight:
        last = shifts[-1]
        spill = draw(st.sampled_from([0, 30, 120, 300, 360]))
        if spill < last.start_minute:
            shifts[-1] = Interval(start=last.start, end=_hhmm(spill))
    return shifts


@st.composite
def calendars(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime]:
    zone = draw(st.sampled_from(ZONES))
    week = {day: draw(day_shifts()) for day in WEEKDAYS}
    around = draw(st.sampled_from(transitions(zone) or (datetime(2024, 6, 1, tzinfo=UTC),)))
    start = around + timedelta(minutes=draw(st.integers(-4 * MINUTES_A_DAY, 4 * MINUTES_A_DAY)))
    local_start = start.astimezone(ZoneInfo(zone)).date()
    holidays = draw(st.lists(st.integers(-3, WINDOW_DAYS).map(lambda n: local_start + timedelta(days=n)),
                             max_size=4))
    try:
        calendar = BusinessCalendar(name="random", time_zone=zone, week=week, holidays=holidays)
    except ValidationError:
        assume(False)
        raise  # unreachable
    return calendar, start


# -- properties ---------------------------------------------------------------------------

@PROPERTY
@given(calendars(), st.integers(0, 3 * MINUTES_A_DAY))
def test_add_business_time_matches_the_reference(drawn: tuple[BusinessCalendar, datetime], minutes: int) -> None:
    calendar, start = drawn
    open_minutes = reference_open_minutes(calendar, start, WINDOW_DAYS)
    assume(minutes <= len(open_minutes))
    expected = start if minutes == 0 else open_minutes[minutes - 1] + MINUTE
    assert calendar.add_business_time(start, minutes * 60) == expected


@PROPERTY
@given(calendars(), st.integers(0, WINDOW_DAYS * MINUTES_A_DAY))
def test_business_seconds_between_matches_the_reference(drawn: tuple[BusinessCalendar, datetime],
                                                        minutes: int) -> None:
    calendar, start = drawn
    end = start + timedelta(minutes=minutes)
    open_minutes = reference_open_minutes(calendar, start, WINDOW_DAYS)
    assert calendar.business_seconds_between(start, end) == 60 * sum(1 for m in open_minutes if m < end)


@PROPERTY
@given(calendars(), st.lists(st.integers(0, WINDOW_DAYS * MINUTES_A_DAY - 1), min_size=1, max_size=8))
def test_is_open_matches_the_reference(drawn: tuple[BusinessCalendar, datetime], offsets: list[int]) -> None:
    calendar, start = drawn
    open_minutes = set(reference_open_minutes(calendar, start, WINDOW_DAYS))
    for offset in offsets:
        at = start + timedelta(minutes=offset)
        assert calendar.is_open(at) == (at in open_minutes), at


@PROPERTY
@given(calendars(), st.integers(1, 2 * MINUTES_A_DAY), st.integers(0, 59))
def test_adding_then_measuring_gives_the_time_back(drawn: tuple[BusinessCalendar, datetime], minutes: int,
                                                   seconds: int) -> None:
    calendar, start = drawn
    start += timedelta(seconds=seconds)
    due = calendar.add_business_time(start, minutes * 60)
    assert calendar.business_seconds_between(start, due) == minutes * 60
    assert calendar.is_open(due - timedelta(seconds=1))


# -- examples -----------------------------------------------------------------------------

def berlin_office(**extra: object) -> BusinessCalendar:
    week = {day: [Interval(start="09:00", end="12:00"), Interval(start="13:00", end="17:00")]
            for day in ("mon", "tue", "wed", "thu", "fri")}
    return BusinessCalendar.model_validate({"name": "office", "time_zone": "Europe/Berlin", "week": week} | extra)


def test_two_shifts_a_day_and_the_weekend_skipped() -> None:
    calendar = berlin_office()
    friday_4pm = datetime(2024, 6, 7, 16, tzinfo=ZoneInfo("Europe/Berlin"))
    due = calendar.add_business_time(friday_4pm, 3 * 3600)  # 1h on Friday, 2h on Monday morning
    assert due == datetime(2024, 6, 10, 11, tzinfo=ZoneInfo("Europe/Berlin"))
    assert not calendar.is_open(datetime(2024, 6, 10, 12, 30, tzinfo=ZoneInfo("Europe/Berlin")))  # lunch


def test_an_overnight_shift_continues_into_a_holiday_but_none_starts_on_it() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    calendar = BusinessCalendar(name="night", time_zone="Asia/Shanghai", holidays=[date(2024, 10, 1)],
                                week={day: [Interval(start="22:00", end="06:00")] for day in WEEKDAYS})
    assert calendar.is_open(datetime(2024, 10, 1, 5, tzinfo=zone))  # Sep 30's shift, into the holiday
    assert not calendar.is_open(datetime(2024, 10, 1, 23, tzinfo=zone))  # Oct 1's shift does not start
    start = datetime(2024, 9, 30, 22, tzinfo=zone)
    assert calendar.add_business_time(start, 9 * 3600) == datetime(2024, 10, 2, 23, tzinfo=zone)


def test_spring_forward_the_shift_is_an_hour_shorter_in_utc() -> None:
    zone = ZoneInfo("America/New_York")
    calendar = BusinessCalendar(name="night", time_zone="America/New_York",
                                week={"sat": [Interval(start="22:00", end="06:00")]})
    saturday = datetime(2024, 3, 9, 22, tzinfo=zone)  # clocks skip 02:00-03:00 on Sunday
    assert calendar.business_seconds_between(saturday, saturday + timedelta(days=1)) == 7 * 3600
    assert calendar.add_business_time(saturday, 7 * 3600) == datetime(2024, 3, 10, 6, tzinfo=zone)


def test_fall_back_the_shift_is_an_hour_longer_in_utc() -> None:
    calendar = BusinessCalendar(name="night", time_zone="Europe/Berlin",
                                week={"sat": [Interval(start="22:00", end="06:00")]})
    saturday = datetime(2024, 10, 26, 20, tzinfo=UTC)  # 22:00 CEST; 03:00 CEST → 02:00 CET on Sunday
    assert calendar.business_seconds_between(saturday, saturday + timedelta(days=1)) == 9 * 3600


def test_a_nonexistent_start_is_read_with_the_offset_before_the_change() -> None:
    """fold=0: 02:30 on New York's spring-forward day is 07:30 UTC (03:30 EDT)."""
    calendar = BusinessCalendar(name="odd", time_zone="America/New_York",
                                week={"sun": [Interval(start="02:30", end="04:00")]})
    sunday = datetime(2024, 3, 10, 5, tzinfo=UTC)
    assert not calendar.is_open(datetime(2024, 3, 10, 7, 15, tzinfo=UTC))
    assert calendar.is_open(datetime(2024, 3, 10, 7, 30, tzinfo=UTC))
    assert calendar.business_seconds_between(sunday, sunday + timedelta(hours=5)) == 30 * 60


def test_a_shift_inside_the_skipped_hour_is_empty() -> None:
    """02:30 → 07:30 UTC and 03:15 EDT → 07:15 UTC: nothing is open, not minus 15 minutes."""
    calendar = BusinessCalendar(name="odd", time_zone="America/New_York",
                                week={"sun": [Interval(start="02:30", end="03:15")],
                                      "mon": [Interval(start="09:00", end="10:00")]})
    sunday = datetime(2024, 3, 10, 5, tzinfo=UTC)
    assert calendar.business_seconds_between(sunday, sunday + timedelta(hours=5)) == 0
    assert calendar.add_business_time(sunday, 60) == datetime(2024, 3, 11, 13, 1, tzinfo=UTC)


def test_an_ambiguous_end_is_its_first_occurrence() -> None:
    """fold=0: 01:30 on New York's fall-back day ends the shift the first time clocks show it."""
    calendar = BusinessCalendar(name="odd", time_zone="America/New_York",
                                week={"sun": [Interval(start="00:00", end="01:30")]})
    sunday = datetime(2024, 11, 3, 4, tzinfo=UTC)  # 00:00 EDT
    assert calendar.business_seconds_between(sunday, sunday + timedelta(hours=4)) == 90 * 60


def test_lord_howe_moves_its_clocks_half_an_hour() -> None:
    zone = ZoneInfo("Australia/Lord_Howe")
    calendar = BusinessCalendar(name="island", time_zone="Australia/Lord_Howe",
                                week={"sat": [Interval(start="20:00", end="08:00")]})
    saturday = datetime(2024, 10, 5, 20, tzinfo=zone)  # Sunday 02:00 → 02:30
    assert calendar.business_seconds_between(saturday, saturday + timedelta(days=1)) == 11 * 3600 + 30 * 60


def test_time_across_a_long_closed_stretch_and_a_calendar_that_never_opens() -> None:
    calendar = BusinessCalendar(name="yearly", time_zone="UTC", week={"mon": [Interval(start="09:00", end="10:00")]},
                                holidays=[date(2024, 1, 1) + timedelta(weeks=n) for n in range(100)])
    start = datetime(2023, 12, 31, tzinfo=UTC)
    assert calendar.add_business_time(start, 60) == datetime(2025, 12, 1, 9, 1, tzinfo=UTC)
    never = BusinessCalendar(name="never", time_zone="UTC", week={"mon": [Interval(start="09:00", end="10:00")]},
                             holidays=[date(2024, 1, 1) + timedelta(weeks=n) for n in range(200)])
    with pytest.raises(CalendarNeverOpens, match="never opens"):
        never.add_business_time(start, 60)
    assert never.business_seconds_between(start, start + timedelta(days=900)) == 0


def test_round_the_clock_is_plain_time() -> None:
    start = datetime(2024, 3, 31, 0, 30, tzinfo=UTC)
    assert CALENDAR_24_7.always_open
    assert not berlin_office().always_open
    assert CALENDAR_24_7.add_business_time(start, 90_000) == start + timedelta(seconds=90_000)
    assert CALENDAR_24_7.business_seconds_between(start, start + timedelta(days=3)) == 3 * 86_400
    zoned = BusinessCalendar(name="z", time_zone="Europe/Berlin",
                             week={d: [Interval(start="00:00", end="00:00")] for d in WEEKDAYS})
    assert zoned.always_open
    assert zoned.add_business_time(start, 7200) == start + timedelta(hours=2)


def test_efficient_for_a_long_target_on_a_sparse_calendar() -> None:
    calendar = BusinessCalendar(name="sparse", time_zone="Europe/Berlin",
                                week={"wed": [Interval(start="10:00", end="11:00")]})
    start = datetime(2024, 1, 1, tzinfo=UTC)
    due = calendar.add_business_time(start, 500 * 3600)  # 500 weeks
    assert calendar.business_seconds_between(start, due) == 500 * 3600


@pytest.mark.parametrize(("week", "holidays", "zone", "message"), [
    ({"mon": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]}, [], "UTC", "overlaps"),
    ({"mon": [{"start": "22:00", "end": "08:00"}], "tue": [{"start": "07:00", "end": "09:00"}]}, [], "UTC",
     "next day"),
    ({"sun": [{"start": "22:00", "end": "08:00"}], "mon": [{"start": "07:00", "end": "09:00"}]}, [], "UTC",
     "next day"),
    ({"mon": [{"start": "9:00", "end": "12:00"}]}, [], "UTC", "pattern"),
    ({"mon": [{"start": "09:00", "end": "25:00"}]}, [], "UTC", "pattern"),
    ({"funday": [{"start": "09:00", "end": "12:00"}]}, [], "UTC", "funday"),
    ({}, [], "UTC", "at least one"),
    ({"mon": [{"start": "09:00", "end": "12:00"}]}, [], "Mars/Olympus", "IANA"),
    ({"mon": [{"start": "09:00", "end": "12:00"}]}, [], "../../etc/passwd", "IANA"),
])
def test_invalid_schedules_are_refused(week: dict[str, object], holidays: list[str], zone: str,
                                       message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        BusinessCalendar.model_validate({"name": "x", "time_zone": zone, "week": week, "holidays": holidays})


def test_naive_instants_are_refused_and_holidays_kept_sorted() -> None:
    calendar = berlin_office(holidays=["2024-12-26", "2024-12-25", "2024-12-25"])
    assert calendar.holidays == [date(2024, 12, 25), date(2024, 12, 26)]
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.is_open(datetime(2024, 1, 1, 10))
