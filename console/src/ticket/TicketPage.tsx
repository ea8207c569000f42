// A ticket: the customer's whole timeline with the reply box, and beside it the ticket's
// properties, its SLA targets and the customer's profile.
import { useEffect, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { ApiError } from "../api/client";
import { useT } from "../i18n";
import { CustomerProfile } from "./CustomerProfile";
import { MergeDialog } from "./MergeDialog";
import { ticketMessages } from "./messages";
import { ReplyBox } from "./ReplyBox";
import { SlaPanel } from "./SlaPanel";
import { TicketControls } from "./TicketControls";
import { TicketHeader } from "./TicketHeader";
import { Timeline } from "./Timeline";
import { useCustomer } from "./useCustomer";
import { useEarlierConversations } from "./useEarlierConversations";
import { useTicket } from "./useTicket";
import "./parts/parts.css";
import "./ticket.css";

export default function TicketPage() {
  const { ticketId = "" } = useParams();
  const t = useT(ticketMessages);
  const navigate = useNavigate();
  const data = useTicket(ticketId);
  const ticket = data.detail?.ticket;
  const customer = useCustomer(ticket?.customer_id, ticket?.last_activity_at);
  const [merging, setMerging] = useState(false);
  const [everything, setEverything] = useState(false);
  const earlier = useEarlierConversations(customer?.tickets ?? [], ticketId, everything);
  const otherCount = (customer?.tickets ?? []).filter((item) => item.id !== ticketId).length;
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    if (!notice) return undefined;
    const timer = window.setTimeout(() => setNotice(null), 8000);
    return () => window.clearTimeout(timer);
  }, [notice]);

  if (data.error && !data.detail) {
    const missing = data.error instanceof ApiError && (data.error.status === 404 || data.error.status === 403);
    return (
      <main className="page ticket-page">
        <p className="error" role="alert">{missing ? t("notFound") : t("loadError", { message: data.error.message })}</p>
        {!missing && <button type="button" onClick={() => void data.refresh()}>{t("retry")}</button>}
      </main>
    );
  }
  if (!data.detail || !ticket) return <main className="page ticket-page"><p className="loading">{t("loading")}</p></main>;

  const person = data.detail.customer;
  const customerName = person?.display_name || person?.identities[0]?.value || ticket.customer_id;

  return (
    <main className="ticket-page">
      <div className="ticket-main">
        <TicketHeader ticket={ticket} customerName={customerName} onMerge={() => setMerging(true)} />
        {otherCount > 0 && (
          <label className="timeline-scope">
            <input type="checkbox" data-testid="timeline-all" checked={everything} onChange={(e) => setEverything(e.target.checked)} />
            {t("allConversations", { count: otherCount })}
          </label>
        )}
        <Timeline customerId={ticket.customer_id} ticketId={ticket.id} messages={everything ? [...earlier, ...data.detail.messages] : data.detail.messages} history={data.history} customerName={customerName} onRetried={data.putMessage} />
        {ticket.status !== "merged" && <ReplyBox key={ticket.id} ticketId={ticket.id} onSent={data.putMessage} />}
      </div>
      <aside className="ticket-side">
        <TicketControls ticket={ticket} update={data.update} onNotice={setNotice} />
        <SlaPanel ticket={ticket} />
        <CustomerProfile customer={person} detail={customer} ticketId={ticket.id} />
      </aside>
      {merging && (
        <MergeDialog ticket={ticket} candidates={customer?.tickets ?? []} onClose={() => setMerging(false)}
                     onMerged={(into) => {
                       setMerging(false);
                       setNotice(t("mergeDone", { id: into }));
                       navigate(`/tickets/${encodeURIComponent(into)}`);
                     }} />
      )}
      <div className="toast" role="status" aria-live="polite">{notice}</div>
    </main>
  );
}
