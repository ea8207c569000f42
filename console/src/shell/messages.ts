import type { Messages } from "../i18n";

type Key =
  | "inbox" | "dashboard" | "flow" | "admin" | "signOut" | "language" | "online" | "away" | "offline"
  | "signInTitle" | "email" | "password" | "signIn" | "newPassword" | "setPassword" | "newPasswordHint";

export const shellMessages: Messages<Key> = {
  en: {
    inbox: "Inbox", dashboard: "Dashboard", flow: "Flow", admin: "Admin", signOut: "Sign out",
    language: "中文", online: "Online", away: "Away", offline: "Offline",
    signInTitle: "Sign in to Switchboard", email: "Email", password: "Password", signIn: "Sign in",
    newPassword: "New password", setPassword: "Set password",
    newPasswordHint: "This is your first sign-in: choose your own password.",
  },
  zh: {
    inbox: "收件箱", dashboard: "仪表盘", flow: "服务流程", admin: "管理", signOut: "退出",
    language: "English", online: "在线", away: "离开", offline: "离线",
    signInTitle: "登录 Switchboard", email: "邮箱", password: "密码", signIn: "登录",
    newPassword: "新密码", setPassword: "设置密码", newPasswordHint: "首次登录：请设置您自己的密码。",
  },
};
