// GET/PATCH /v1/settings: the tenant's name, language, zone, retention, workflow and surveys.
import { useT } from "../../i18n";
import { listCalendars } from "../api/sla";
import { readSettings } from "../api/settings";
import { ErrorBox } from "../common/ErrorBox";
import { useLoad } from "../common/useLoad";
import { adminMessages } from "../messages";
import { SettingsForm } from "./SettingsForm";

export default function SettingsPage() {
  const t = useT(adminMessages);
  const tenant = useLoad(readSettings);
  const calendars = useLoad(listCalendars);
  return (
    <section data-testid="admin-settings">
      <h1>{t("settings")}</h1>
      <ErrorBox error={tenant.error} />
      {!tenant.data && !tenant.error && <p className="admin-empty">{t("loading")}</p>}
      {tenant.data && (
        <SettingsForm key={tenant.data.id} tenant={tenant.data} calendars={calendars.data ?? []} />
      )}
    </section>
  );
}
