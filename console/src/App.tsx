// The console's table of contents: each area is a folder that owns its page.
import { lazy, Suspense } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { SessionProvider } from "./auth/session";
import { Layout } from "./shell/Layout";
import { RequireSession } from "./shell/RequireSession";
import { SignIn } from "./shell/SignIn";

const InboxPage = lazy(() => import("./inbox/InboxPage"));
const TicketPage = lazy(() => import("./ticket/TicketPage"));
const DashboardPage = lazy(() => import("./dashboard/DashboardPage"));
const FlowPage = lazy(() => import("./dashboard/FlowPage"));
const AdminPage = lazy(() => import("./admin/AdminPage"));

export function App() {
  return (
    <SessionProvider>
      <BrowserRouter basename="/console">
        <Suspense fallback={<div className="loading">…</div>}>
          <Routes>
            <Route path="/sign-in" element={<SignIn />} />
            <Route element={<RequireSession><Layout /></RequireSession>}>
              <Route index element={<Navigate to="/inbox" replace />} />
              <Route path="/inbox" element={<InboxPage />} />
              <Route path="/tickets/:ticketId" element={<TicketPage />} />
              <Route path="/dashboard" element={<DashboardPage />} />
              <Route path="/flow" element={<FlowPage />} />
              <Route path="/admin/*" element={<AdminPage />} />
            </Route>
            <Route path="*" element={<Navigate to="/inbox" replace />} />
          </Routes>
        </Suspense>
      </BrowserRouter>
    </SessionProvider>
  );
}
