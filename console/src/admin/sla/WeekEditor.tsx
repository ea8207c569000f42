// Weekly opening hours: up to 12 intervals a day, a day without any is closed.
import { useT } from "../../i18n";
import type { CalendarFields, Interval, Weekday } from "../api/types";
import { adminMessages } from "../messages";

const days: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

interface Props {
  week: CalendarFields["week"];
  onChange: (week: CalendarFields["week"]) => void;
}

export function WeekEditor({ week, onChange }: Props) {
  const t = useT(adminMessages);
  const setDay = (day: Weekday, intervals: Interval[]) => onChange({ ...week, [day]: intervals });
  return (
    <div data-testid="calendar-week">
      {days.map((day) => {
        const intervals = week[day] ?? [];
        const setAt = (index: number, patch: Partial<Interval>) =>
          setDay(day, intervals.map((interval, at) => (at === index ? { ...interval, ...patch } : interval)));
        return (
          <div key={day} className="admin-day" data-testid={`calendar-day-${day}`}>
            <span className="day">{t(`day_${day}`)}</span>
            <div className="intervals">
              {intervals.length === 0 && <span className="admin-empty">{t("closed")}</span>}
              {intervals.map((interval, index) => (
                <div key={index} className="admin-interval">
                  <input type="time" value={interval.start} aria-label="start" data-testid={`calendar-${day}-${index}-start`}
                         onChange={(event) => setAt(index, { start: event.target.value })} />
                  –
                  <input type="time" value={interval.end === "24:00" ? "00:00" : interval.end} aria-label="end"
                         data-testid={`calendar-${day}-${index}-end`} onChange={(event) => setAt(index, { end: event.target.value })} />
                  <button type="button" className="link" aria-label={t("remove")}
                          onClick={() => setDay(day, intervals.filter((_, at) => at !== index))}>✕</button>
                </div>
              ))}
            </div>
            <button type="button" className="admin-small" disabled={intervals.length >= 12} data-testid={`calendar-${day}-add`}
                    onClick={() => setDay(day, [...intervals, { start: "09:00", end: "18:00" }])}>+ {t("addInterval")}</button>
          </div>
        );
      })}
    </div>
  );
}
