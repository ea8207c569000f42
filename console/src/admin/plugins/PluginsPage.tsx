export default function Stub() { return <p>…</p>; }
