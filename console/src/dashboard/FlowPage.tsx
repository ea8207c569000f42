// Placeholder until its owner builds it.
export default function FlowPage() {
  return <main className="page"><h1>FlowPage</h1></main>;
}
