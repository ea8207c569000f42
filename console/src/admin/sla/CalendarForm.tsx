// A calendar: name, IANA time zone, intervals per weekday (overnight allowed), holidays.
import { useState, type FormEvent } from "react";
import { useLocale, useT } from "../../i18n";
import { saveCalendar } from "../api/sla";
import type { Calendar, CalendarFields, Interval, Weekday } from "../api/types";
import { FormFooter } from "../common/FormFooter";
import { Field } from "../common/Field";
import { Modal } from "../common/Modal";
import { TimeZoneSelect } from "../common/TimeZoneSelect";
import { useAction } from "../common/useAction";
import { adminMessages } from "../messages";
import { HolidaysEditor } from "./HolidaysEditor";
import { WeekEditor } from "./WeekEditor";

interface Props {
  calendar: Calendar | null;
  onClose: () => void;
  onSaved: () => void;
}

const weekdays: Weekday[] = ["mon", "tue", "wed", "thu", "fri"];
const office: Interval[] = [{ start: "09:00", end: "18:00" }];

function defaultWeek(): CalendarFields["week"] {
  return Object.fromEntries(weekdays.map((day) => [day, office]));
}

export function CalendarForm({ calendar, onClose, onSaved }: Props) {
  const t = useT(adminMessages);
  const { timeZone } = useLocale();
  const [name, setName] = useState(calendar?.name ?? "");
  const [zone, setZone] = useState(calendar?.time_zone ?? timeZone);
  const [week, setWeek] = useState<CalendarFields["week"]>(calendar?.week ?? defaultWeek());
  const [holidays, setHolidays] = useState<string[]>(calendar?.holidays ?? []);
  const [tried, setTried] = useState(false);
  const badInterval = Object.values(week).some((intervals) => intervals?.some((i) => !i.start || !i.end));
  const problems = { name: !name.trim() ? t("required") : null, week: badInterval ? t("badInterval") : null };
  const save = useAction(async () => {
    const clean = Object.fromEntries(Object.entries(week).filter(([, intervals]) => intervals?.length));
    await saveCalendar({ name: name.trim(), time_zone: zone, week: clean, holidays: [...holidays].sort() }, calendar ?? undefined);
    onSaved();
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setTried(true);
    if (!problems.name && !problems.week) void save.run();
  }

  return (
    <Modal title={calendar ? t("editCalendar") : t("newCalendar")} onClose={onClose} wide testId="calendar-form">
      <form className="admin-form" onSubmit={submit} noValidate>
        <div className="admin-row">
          <Field label={t("name")} problem={tried ? problems.name : null}>
            <input value={name} maxLength={100} data-testid="calendar-name" autoFocus onChange={(event) => setName(event.target.value)} />
          </Field>
          <Field label={t("timeZone")}>
            <TimeZoneSelect value={zone} onChange={setZone} testId="calendar-time-zone" />
          </Field>
        </div>
        <fieldset>
          <legend>{t("week")}</legend>
          <small className="hint">{t("overnightHint")}</small>
          <WeekEditor week={week} onChange={setWeek} />
          {tried && problems.week && <small className="admin-error">{problems.week}</small>}
        </fieldset>
        <fieldset>
          <legend>{t("holidays")}</legend>
          <HolidaysEditor holidays={holidays} onChange={setHolidays} />
        </fieldset>
        <FormFooter error={save.error} busy={save.busy} onClose={onClose} testId="calendar-save" />
      </form>
    </Modal>
  );
}
