"""KPIs computed as the data flows: per-ticket facts derived from the ticket's history,
kept as per-tenant, per-day aggregates by the stream handler, read by the reports API."""
