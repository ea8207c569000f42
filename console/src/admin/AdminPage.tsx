// The admin area for tenant admins: a side menu and one page per concern.
import { lazy, Suspense } from "react";
import { Navigate, NavLink, Route, Routes } from "react-router-dom";
import { useSession } from "../auth/session";
import { useT } from "../i18n";
import "./admin.css";
import { adminMessages, type AdminKey } from "./messages";

const AgentsPage = lazy(() => import("./agents/AgentsPage"));
const RulesPage = lazy(() => import("./rules/RulesPage"));
const SlaPage = lazy(() => import("./sla/SlaPage"));
const TemplatesPage = lazy(() => import("./templates/TemplatesPage"));
const PluginsPage = lazy(() => import("./plugins/PluginsPage"));
const KnowledgePage = lazy(() => import("./knowledge/KnowledgePage"));
const KeysPage = lazy(() => import("./keys/KeysPage"));
const AuditPage = lazy(() => import("./audit/AuditPage"));
const SettingsPage = lazy(() => import("./settings/SettingsPage"));

const pages: { path: string; label: AdminKey }[] = [
  { path: "agents", label: "nav_agents" },
  { path: "rules", label: "nav_rules" },
  { path: "sla", label: "nav_sla" },
  { path: "templates", label: "nav_templates" },
  { path: "plugins", label: "nav_plugins" },
  { path: "knowledge", label: "nav_knowledge" },
  { path: "keys", label: "nav_keys" },
  { path: "audit", label: "nav_audit" },
  { path: "settings", label: "nav_settings" },
];

export default function AdminPage() {
  const t = useT(adminMessages);
  const { can } = useSession();
  if (!can("tenant-admin")) {
    return <main className="page"><p className="admin-error" data-testid="admin-forbidden">{t("notAllowed")}</p></main>;
  }
  return (
    <div className="admin" data-testid="admin-page">
      <nav className="admin-nav" aria-label={t("title")}>
        <h2>{t("title")}</h2>
        {pages.map((page) => (
          <NavLink key={page.path} to={`/admin/${page.path}`} data-testid={`admin-nav-${page.path}`}>
            {t(page.label)}
          </NavLink>
        ))}
      </nav>
      <main className="admin-main">
        <Suspense fallback={<div className="loading">{t("loading")}</div>}>
          <Routes>
            <Route index element={<Navigate to="agents" replace />} />
            <Route path="agents" element={<AgentsPage />} />
            <Route path="rules" element={<RulesPage />} />
            <Route path="sla" element={<SlaPage />} />
            <Route path="templates" element={<TemplatesPage />} />
            <Route path="plugins" element={<PluginsPage />} />
            <Route path="knowledge" element={<KnowledgePage />} />
            <Route path="keys" element={<KeysPage />} />
            <Route path="audit" element={<AuditPage />} />
            <Route path="settings" element={<SettingsPage />} />
            <Route path="*" element={<Navigate to="agents" replace />} />
          </Routes>
        </Suspense>
      </main>
    </div>
  );
}
