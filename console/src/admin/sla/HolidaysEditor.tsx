// Holidays: dates whose shifts do not start, kept sorted and distinct.
import { useState } from "react";
import { useT } from "../../i18n";
import { adminMessages } from "../messages";

export function HolidaysEditor({ holidays, onChange }: { holidays: string[]; onChange: (dates: string[]) => void }) {
  const t = useT(adminMessages);
  const [date, setDate] = useState("");
  const add = () => {
    if (date && !holidays.includes(date)) onChange([...holidays, date].sort());
    setDate("");
  };
  return (
    <div className="admin-form" data-testid="calendar-holidays">
      <div className="admin-interval">
        <input type="date" value={date} data-testid="holiday-date" onChange={(event) => setDate(event.target.value)} />
        <button type="button" className="admin-small" disabled={!date || holidays.length >= 1000} data-testid="holiday-add" onClick={add}>
          + {t("addHoliday")}
        </button>
      </div>
      <div className="admin-chips">
        {holidays.map((day) => (
          <span key={day} className="admin-chip" data-testid="holiday">
            {day}
            <button type="button" aria-label={t("remove")} onClick={() => onChange(holidays.filter((d) => d !== day))}>✕</button>
          </span>
        ))}
      </div>
    </div>
  );
}
