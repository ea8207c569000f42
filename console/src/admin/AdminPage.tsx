// Placeholder until its owner builds it.
export default function AdminPage() {
  return <main className="page"><h1>AdminPage</h1></main>;
}
