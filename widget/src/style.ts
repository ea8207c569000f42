// The widget's stylesheet, inside its shadow root: the host page's CSS cannot reach it, and it
// cannot reach the page. Full screen on small viewports (phones).

export function stylesheet(colour: string): string {
  return `
:host { all: initial; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif; }
.launcher { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%; border: 0;
  background: ${colour}; color: #fff; font-size: 26px; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25);
  z-index: 2147483646; }
.launcher:focus-visible, button:focus-visible, textarea:focus-visible, a:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.panel { position: fixed; right: 20px; bottom: 88px; width: 370px; height: min(600px, calc(100vh - 110px));
  background: #fff; color: #111827; border-radius: 14px; box-shadow: 0 10px 40px rgba(0,0,0,.25); display: flex;
  flex-direction: column; overflow: hidden; z-index: 2147483647; font-size: 15px; line-height: 1.4; }
.panel[hidden] { display: none; }
header { background: ${colour}; color: #fff; padding: 12px 14px; display: flex; align-items: center; gap: 10px; }
header h2 { font-size: 16px; margin: 0; flex: 1; }
header a { color: #fff; font-size: 13px; }
header button { background: transparent; border: 0; color: #fff; font-size: 22px; cursor: pointer; line-height: 1; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; background: #f9fafb; }
.bubble { max-width: 85%; padding: 8px 11px; border-radius: 12px; white-space: pre-wrap; word-wrap: break-word; }
.bubble .who { display: block; font-size: 12px; font-weight: 600; opacity: .75; margin-bottom: 2px; }
.bubble .meta { display: block; font-size: 11px; opacity: .65; margin-top: 3px; }
.visitor { align-self: flex-end; background: ${colour}; color: #fff; }
.agent, .system { align-self: flex-start; background: #fff; border: 1px solid #e5e7eb; }
.assistant { align-self: flex-start; background: #eef2ff; border: 1px solid #c7d2fe; }
.note { align-self: center; font-size: 13px; color: #4b5563; text-align: center; }
.actions { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; align-items: center; font-size: 13px; }
.actions button, .rating button { border: 1px solid ${colour}; background: #fff; color: ${colour}; border-radius: 999px;
  padding: 4px 10px; cursor: pointer; font-size: 13px; }
.rating { align-self: stretch; background: #fff; border: 1px solid #e5e7eb; border-radius: 12px; padding: 10px; text-align: center; }
.rating div { display: flex; justify-content: center; gap: 6px; margin-top: 6px; }
form { display: flex; gap: 6px; padding: 10px; border-top: 1px solid #e5e7eb; align-items: flex-end; background: #fff; }
textarea { flex: 1; resize: none; border: 1px solid #d1d5db; border-radius: 10px; padding: 8px; font-size: 15px; max-height: 120px; }
form button { border: 0; border-radius: 10px; padding: 9px 12px; cursor: pointer; background: ${colour}; color: #fff; font-size: 14px; }
form button.attach { background: #f3f4f6; color: #111827; }
.status { font-size: 12px; color: #b91c1c; padding: 0 12px 6px; background: #fff; }
.status:empty { display: none; }
@media (max-width: 480px) {
  .panel { right: 0; bottom: 0; width: 100vw; height: 100%; max-height: 100dvh; border-radius: 0; }
}
`;
}
