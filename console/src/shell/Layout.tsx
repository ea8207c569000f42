import { NavLink, Outlet } from "react-router-dom";
import { api } from "../api/client";
import type { AgentView } from "../api/types";
import { useSession, useMe } from "../auth/session";
import { useLocale, useT } from "../i18n";
import { shellMessages } from "./messages";

export function Layout() {
  const t = useT(shellMessages);
  const me = useMe();
  const { reload, signOut, can } = useSession();
  const { locale, setLocale } = useLocale();

  async function setAvailability(availability: AgentView["availability"]) {
    await api("/v1/me/availability", { method: "PUT", body: { availability } });
    await reload();
  }

  return (
    <div className="shell">
      <nav className="topbar">
        <strong className="brand">Switchboard</strong>
        <NavLink to="/inbox">{t("inbox")}</NavLink>
        <NavLink to="/dashboard">{t("dashboard")}</NavLink>
        <NavLink to="/flow">{t("flow")}</NavLink>
        {can("tenant-admin") && <NavLink to="/admin">{t("admin")}</NavLink>}
        <span className="spacer" />
        <select aria-label="availability" value={me.agent.availability}
                onChange={(event) => void setAvailability(event.target.value as AgentView["availability"])}>
          <option value="online">{t("online")}</option>
          <option value="away">{t("away")}</option>
          <option value="offline">{t("offline")}</option>
        </select>
        <button type="button" className="link" onClick={() => setLocale(locale === "en" ? "zh" : "en")}>
          {t("language")}
        </button>
        <span className="who">{me.agent.name}</span>
        <button type="button" className="link" onClick={signOut}>{t("signOut")}</button>
      </nav>
      <Outlet />
    </div>
  );
}
