// A dialog over the page: Escape or the backdrop closes it (unless busy).
import { useEffect, type ReactNode } from "react";

interface Props {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
  testId?: string;
}

export function Modal({ title, onClose, children, wide, testId }: Props) {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <div className="admin-backdrop" onMouseDown={(event) => event.target === event.currentTarget && onClose()}>
      <div className={wide ? "admin-modal wide" : "admin-modal"} role="dialog" aria-modal="true"
           aria-label={title} data-testid={testId ?? "admin-dialog"}>
        <header><h2>{title}</h2><button type="button" className="link" aria-label="close" onClick={onClose}>✕</button></header>
        {children}
      </div>
    </div>
  );
}
