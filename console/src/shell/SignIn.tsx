import { useState, type FormEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router-dom";
import { ApiError } from "../api/client";
import { useSession } from "../auth/session";
import { setNewPassword, signIn, type PasswordChallenge } from "../auth/tokens";
import { useT } from "../i18n";
import { shellMessages } from "./messages";

export function SignIn() {
  const t = useT(shellMessages);
  const { me, reload } = useSession();
  const navigate = useNavigate();
  const from = (useLocation().state as { from?: string } | null)?.from ?? "/inbox";
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [challenge, setChallenge] = useState<PasswordChallenge | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (me) return <Navigate to={from} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (challenge) await setNewPassword(email, challenge.session, password);
      else {
        const answer = await signIn(email, password);
        if ("challenge" in answer) {
          setChallenge(answer);
          setPassword("");
          return;
        }
      }
      await reload();
      navigate(from, { replace: true });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <form onSubmit={(event) => void submit(event)} aria-label={t("signInTitle")}>
        <h1>{t("signInTitle")}</h1>
        {challenge && <p>{t("newPasswordHint")}</p>}
        <label>
          {t("email")}
          <input type="email" autoComplete="username" value={email} required disabled={challenge !== null}
                 onChange={(event) => setEmail(event.target.value)} />
        </label>
        <label>
          {challenge ? t("newPassword") : t("password")}
          <input type="password" autoComplete={challenge ? "new-password" : "current-password"} value={password}
                 required onChange={(event) => setPassword(event.target.value)} />
        </label>
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit" disabled={busy}>{challenge ? t("setPassword") : t("signIn")}</button>
      </form>
    </main>
  );
}
