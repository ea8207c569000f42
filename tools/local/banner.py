"""What ``make run`` prints once the local runtime is up."""

from __future__ import annotations

from pathlib import Path

from .console_static import DIST
from .demo import DemoTenant

CLI = ".venv/bin/switchboard"


def widget_lines(demo: DemoTenant) -> list[str]:
    """The widget's demo shop (another origin than the hub), when the runtime serves it."""
    page = str(demo.channels.get("widget", {}).get("host_page", ""))
    if not page:
        return []
    return [f"  widget demo    {page}   (a shop page on another origin with the chat widget; "
            f"{page}?user=ada signs in as a verified customer)"]


def banner(demo: DemoTenant, state_file: Path, endpoint: str) -> str:
    sandbox = ", ".join(f"{name} {url}" for name, url in demo.sandbox.items()) or "(none)"
    return "\n".join([
        "",
        "Switchboard is running (local runtime)",
        f"  console        {demo.hub_url}/console/",
        f"  sign in as     {demo.agent_email}   password {demo.agent_password}   (demo agent, admin)",
        *([] if (DIST / "index.html").is_file() else
          ["  (the console is not built: `make run` builds it, or `make console`)"]),
        "",
        f"  hub            {demo.hub_url}",
        f"  demo tenant    {demo.tenant_id}",
        f"  web channel    POST {demo.web_hook_url}",
        *widget_lines(demo),
        f"  help centre    {demo.hub_url}/help/{demo.tenant_id}   (the demo FAQ the assistant answers from; "
        f"Admin → Knowledge in the console)",
        f"  tickets API    GET  {demo.hub_url}/v1/tickets   (Authorization: Bearer {demo.api_key})",
        f"  receiver       {demo.receiver_url}   (the demo webhook connector delivers here; web replies too)",
        f"  sandbox        {sandbox}   (fake provider APIs: replies go here)",
        f"  embedded AWS   {endpoint}",
        f"  secrets        {state_file}",
        "",
        "Demo agent (admin) sign-in:",
        f"  email          {demo.agent_email}",
        f"  password       {demo.agent_password}",
        "",
        "Ask the assistant: open the widget demo and write \"How do I reset my password?\" (answered at once),",
        "then \"I want to talk to a person\" (the ticket lands in the console's inbox with its intent).",
        "",
        "Send a signed test message (in another terminal):",
        f'  {CLI} demo send "Hello, my order has not arrived"',
        f'  {CLI} demo sms "Where is my parcel?"      (also: demo wechat, demo email)',
        "Then list tickets:",
        f"  {CLI} demo tickets",
        "Sign in as the demo agent and answer (the sandbox prints what it receives):",
        f"  {CLI} login --email {demo.agent_email}",
        f"  {CLI} tickets list",
        f'  {CLI} tickets reply <ticket id> "Your parcel leaves today"',
        f'  {CLI} demo reply <ticket id> "Your parcel leaves today"   (signs in, replies, waits for delivered)',
        "",
    ])
