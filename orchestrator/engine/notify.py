"""Notifications on run start, finish and failure: webhook and/or SMTP.

Configured in the inventory under `drill.notifications` (docs/compliance.md):

    notifications:
      events: [start, finish, failure]      # default: all three
      webhook: {url: "http://…", timeout: 5, headers_env: {Authorization: DRILL_HOOK_AUTH}}
      smtp: {host: mail.example, port: 25, from: drill@example, to: [ops@example],
             starttls: false, username: null, password_env: DRILL_SMTP_PASSWORD}

The engine calls `notify(inventory, event, payload)`. A notification failure never breaks
a run: every error is caught and returned as a `Delivery` with `ok=False`. Secrets are
never in the inventory; a password or header value is read from the named environment
variable.
"""

from __future__ import annotations

import json
import os
import smtplib
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

EVENTS = ("start", "finish", "failure")
DEFAULT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Delivery:
    channel: str        # webhook | smtp
    target: str
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class Webhook:
    url: str
    timeout: float = DEFAULT_TIMEOUT_S
    headers: tuple[tuple[str, str], ...] = ()   # (header, environment variable holding the value)


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class NotifyConfig:
    events: tuple[str, ...]
    webhooks: tuple[Webhook, ...]
    smtp: tuple[Smtp, ...]


def parse_config(raw: Mapping[str, Any] | None) -> NotifyConfig:
    """Typed config from `drill.notifications`; malformed entries raise ValueError."""
    raw = raw or {}
    events = tuple(raw.get("events") or EVENTS)
    hooks = raw.get("webhook") or ()
    hooks = [hooks] if isinstance(hooks, Mapping) else list(hooks)
    smtps = raw.get("smtp") or ()
    smtps = [smtps] if isinstance(smtps, Mapping) else list(smtps)
    return NotifyConfig(
        events=events,
        webhooks=tuple(Webhook(url=str(h["url"]), timeout=float(h.get("timeout", DEFAULT_TIMEOUT_S)),
                               headers=tuple((str(k), str(v)) for k, v in (h.get("headers_env") or {}).items()))
                       for h in hooks),
        smtp=tuple(Smtp(host=str(s["host"]), port=int(s.get("port", 25)), sender=str(s["from"]),
                        to=tuple(s["to"] if isinstance(s["to"], list) else [s["to"]]),
                        starttls=bool(s.get("starttls", False)), username=s.get("username"),
                        password_env=s.get("password_env"),
                        timeout=float(s.get("timeout", DEFAULT_TIMEOUT_S)))
                   for s in smtps),
    )


def notify(inventory: Any, event: str, payload: Mapping[str, Any]) -> list[Delivery]:
    """Send `event` (start | finish | failure) to every configured channel; never raises."""
    try:
        config = parse_config(getattr(inventory, "notifications", None))
    except (KeyError, TypeError, ValueError) as e:
        return [Delivery("config", "drill.notifications", False, f"invalid: {e}")]
    if event not in config.events:
        return []
    env = getattr(getattr(inventory, "environment", None), "name", None)
    message = {"event": event, "environment": env, "host": socket.gethostname(),
               "payload": dict(payload)}
    out = [_post(h, message) for h in config.webhooks]
    out += [_mail(s, message) for s in config.smtp]
    return out


def _post(hook: Webhook, message: Mapping[str, Any]) -> Delivery:
    body = json.dumps(message, ensure_ascii=False, default=str).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "drill"}
    headers.update({k: os.environ.get(var, "") for k, var in hook.headers})
    req = urllib.request.Request(hook.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=hook.timeout) as resp:
            resp.read()
            if resp.status >= 300:
                return Delivery("webhook", hook.url, False, f"HTTP {resp.status}")
    except (OSError, urllib.error.URLError, ValueError) as e:
        return Delivery("webhook", hook.url, False, str(e))
    return Delivery("webhook", hook.url, True)


def _subject(message: Mapping[str, Any]) -> str:
    payload = message.get("payload") or {}
    words = {"start": "started", "finish": "finished", "failure": "FAILED"}
    return (f"[drill] {payload.get('drill', '?')} on {message.get('environment')} "
            f"{words.get(str(message['event']), message['event'])}"
            + (f": {payload['status']}" if payload.get("status") else ""))


def _mail(cfg: Smtp, message: Mapping[str, Any]) -> Delivery:
    msg = EmailMessage()
    msg["Subject"] = _subject(message)
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.to)
    msg.set_content(json.dumps(message, ensure_ascii=False, indent=2, default=str))
    target = f"{cfg.host}:{cfg.port}"
    try:
        with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout) as smtp:
            if cfg.starttls:
                smtp.starttls()
            if cfg.username:
                smtp.login(cfg.username, os.environ.get(cfg.password_env or "", ""))
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as e:
        return Delivery("smtp", target, False, str(e))
    return Delivery("smtp", target, True)


def notify_quietly(inventory: Any, event: str, payload: Mapping[str, Any]) -> None:
    """Notify for the engine: a channel that fails never touches the run."""
    import contextlib

    with contextlib.suppress(Exception):
        notify(inventory, event, payload)
