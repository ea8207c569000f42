// Placeholder until its owner builds it.
export default function InboxPage() {
  return <main className="page"><h1>InboxPage</h1></main>;
}
