import { useState } from "react";
import { Link } from "react-router-dom";
import { useSession } from "../auth/session";
import { useT } from "../i18n";
import { useTimeFormat } from "../i18n/time";
import { ticketMessages } from "./messages";
import { ChannelBadge } from "./parts/ChannelBadge";
import { StatusBadge } from "./parts/StatusBadge";
import { customerExport, download } from "./exportCustomer";
import type { Customer, CustomerDetail } from "./types";

interface Props {
  customer: Customer | null;
  detail: CustomerDetail | null;
  ticketId: string;
}

/** Who the customer is: every way they reached us, tags, attributes, and their other tickets. */
export function CustomerProfile({ customer: shown, detail, ticketId }: Props) {
  const t = useT(ticketMessages);
  const format = useTimeFormat();
  const customer = detail?.customer ?? shown;
  if (!customer) return <section className="panel"><p className="muted">{t("noCustomer")}</p></section>;
  const others = (detail?.tickets ?? []).filter((ticket) => ticket.id !== ticketId);
  const attributes = Object.entries(customer.attributes ?? {});

  return (
    <section className="panel customer" aria-labelledby="customer-title" data-testid="customer-profile">
      <h2 id="customer-title">{t("customer")}</h2>
      <p className="customer-name">{customer.display_name || customer.identities[0]?.value || customer.id}</p>
      <p className="muted small">{t("customerSince", { date: format(customer.created_at, "date") })}</p>
      <h3>{t("identities")}</h3>
      <ul className="identities">
        {customer.identities.map((identity) => (
          <li key={`${identity.kind}:${identity.value}`}><span className="muted">{identity.kind}</span> {identity.value}</li>
        ))}
      </ul>
      {(customer.tags ?? []).length > 0 && (
        <ul className="tag-list">{customer.tags?.map((tag) => <li key={tag} className="tag-chip">{tag}</li>)}</ul>
      )}
      {attributes.length > 0 && (
        <>
          <h3>{t("attributes")}</h3>
          <dl className="attributes">
            {attributes.map(([key, value]) => <div key={key}><dt>{key}</dt><dd>{value}</dd></div>)}
          </dl>
        </>
      )}
      <ExportButton customerId={customer.id} />
      <h3>{t("otherTickets")}</h3>
      {others.length === 0 && <p className="muted small">{t("noOtherTickets")}</p>}
      <ul className="other-tickets">
        {others.map((ticket) => (
          <li key={ticket.id} data-testid="other-ticket" data-ticket-id={ticket.id}>
            <ChannelBadge channel={ticket.channel} />
            <Link to={`/tickets/${encodeURIComponent(ticket.id)}`}>{ticket.subject || ticket.id}</Link>
            <StatusBadge status={ticket.status} />
            <span className="muted small">{format(ticket.last_activity_at)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Admins only: the customer's subject-access export, downloaded as one JSON file. */
function ExportButton({ customerId }: { customerId: string }) {
  const t = useT(ticketMessages);
  const { can } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!can("tenant-admin")) return null;

  const run = () => {
    setBusy(true);
    setError(null);
    customerExport(customerId)
      .then((data) => download(data, `customer-${customerId}.json`))
      .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)))
      .finally(() => setBusy(false));
  };

  return (
    <p className="customer-export">
      <button type="button" data-testid="customer-export" disabled={busy} onClick={run} title={t("exportHint")}>
        {busy ? t("exporting") : t("exportData")}
      </button>
      {error && <span role="alert" className="error small">{t("exportFailed", { message: error })}</span>}
    </p>
  );
}
