// Business-hours calendars: list, create, edit, delete (refused while a policy uses one).
import { useState } from "react";
import { useT } from "../../i18n";
import { deleteCalendar } from "../api/sla";
import type { Calendar, Weekday } from "../api/types";
import { ConfirmButton } from "../common/ConfirmButton";
import { ErrorBox } from "../common/ErrorBox";
import type { Load } from "../common/useLoad";
import { adminMessages } from "../messages";
import { CalendarForm } from "./CalendarForm";

const days: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

function summary(calendar: Calendar): string {
  return days
    .filter((day) => calendar.week[day]?.length)
    .map((day) => `${day} ${(calendar.week[day] ?? []).map((i) => `${i.start}–${i.end}`).join(", ")}`)
    .join("; ");
}

export function CalendarsSection({ calendars }: { calendars: Load<Calendar[]> }) {
  const t = useT(adminMessages);
  const [editing, setEditing] = useState<Calendar | "new" | null>(null);
  return (
    <section data-testid="admin-calendars">
      <h2>{t("calendars")}</h2>
      <div className="admin-toolbar">
        <button type="button" className="primary" data-testid="calendar-new" onClick={() => setEditing("new")}>{t("newCalendar")}</button>
      </div>
      <ErrorBox error={calendars.error} />
      <table className="admin-table" data-testid="admin-table-calendars">
        <thead>
          <tr><th>{t("name")}</th><th>{t("timeZone")}</th><th>{t("week")}</th><th>{t("holidays")}</th><th>{t("actions")}</th></tr>
        </thead>
        <tbody>
          {(calendars.data ?? []).map((calendar) => (
            <tr key={calendar.id} data-testid="calendar-row" data-calendar-id={calendar.id}>
              <td>{calendar.name}</td>
              <td>{calendar.time_zone}</td>
              <td><small>{summary(calendar) || t("closed")}</small></td>
              <td>{calendar.holidays.length}</td>
              <td className="actions">
                <button type="button" data-testid="calendar-edit" onClick={() => setEditing(calendar)}>{t("edit")}</button>
                <ConfirmButton label={t("delete")} testId="calendar-delete" question={t("confirmDelete", { name: calendar.name })}
                               onConfirm={() => deleteCalendar(calendar)} onDone={calendars.reload} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {calendars.data?.length === 0 && <p className="admin-empty">{t("empty")}</p>}
      {editing && (
        <CalendarForm calendar={editing === "new" ? null : editing} onClose={() => setEditing(null)}
                      onSaved={() => { setEditing(null); calendars.reload(); }} />
      )}
    </section>
  );
}
