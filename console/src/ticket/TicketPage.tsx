// Placeholder until its owner builds it.
export default function TicketPage() {
  return <main className="page"><h1>TicketPage</h1></main>;
}
