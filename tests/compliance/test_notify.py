"""Notifications: a webhook POST reaches a local receiver; SMTP too; failures never raise."""

from __future__ import annotations

import json
import socketserver
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from compliance_helpers import drill_home, write_inventory  # noqa: F401 - drill_home: autouse fixture

from orchestrator.config.inventory import load_inventory
from orchestrator.engine.notify import notify
from orchestrator.lab.testing import free_ports


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, dict(self.headers), json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _inventory(tmp_path, notifications):
    return replace(load_inventory(write_inventory(tmp_path)), notifications=notifications)


def test_webhook_posts_each_event_to_a_local_receiver(tmp_path, receiver, monkeypatch):
    monkeypatch.setenv("DRILL_TEST_HOOK_AUTH", "Bearer s3cret")
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    inv = _inventory(tmp_path, {"webhook": {"url": url, "headers_env": {"Authorization": "DRILL_TEST_HOOK_AUTH"}}})
    for event, payload in (("start", {"drill": "carrier-outage", "run": "R1"}),
                           ("failure", {"drill": "carrier-outage", "run": "R1", "status": "failed"})):
        [delivery] = notify(inv, event, payload)
        assert delivery.ok, delivery
    assert [r[2]["event"] for r in receiver.received] == ["start", "failure"]
    path, headers, body = receiver.received[1]
    assert path == "/hook" and headers["Authorization"] == "Bearer s3cret"
    assert body["environment"] == "lab" and body["payload"]["status"] == "failed"


def test_events_filter(tmp_path, receiver):
    url = f"http://127.0.0.1:{receiver.server_port}/"
    inv = _inventory(tmp_path, {"events": ["failure"], "webhook": {"url": url}})
    assert notify(inv, "start", {"drill": "x"}) == []
    assert receiver.received == []


def test_unreachable_webhook_and_bad_config_never_raise(tmp_path):
    [port] = free_ports(1)
    inv = _inventory(tmp_path, {"webhook": {"url": f"http://127.0.0.1:{port}/", "timeout": 1}})
    [delivery] = notify(inv, "finish", {"drill": "x"})
    assert not delivery.ok and delivery.error
    [bad] = notify(_inventory(tmp_path, {"webhook": {"no_url": 1}}), "finish", {})
    assert not bad.ok and "invalid" in bad.error


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept one message."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        data, lines = False, []
        while line := self.rfile.readline():
            if data:
                if line == b".\r\n":
                    data = False
                    self.server.messages.append(b"".join(lines).decode())
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line)
                continue
            cmd = line[:4].upper()
            if cmd == b"DATA":
                data = True
                self.wfile.write(b"354 go ahead\r\n")
            elif cmd == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_smtp_mail_reaches_a_local_server(tmp_path):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        inv = _inventory(tmp_path, {"smtp": {"host": "127.0.0.1", "port": server.server_address[1],
                                             "from": "drill@example.test", "to": ["ops@example.test"]}})
        [delivery] = notify(inv, "finish", {"drill": "carrier-outage", "status": "passed"})
        assert delivery.ok, delivery
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    [message] = server.messages
    assert "Subject: [drill] carrier-outage on lab finished: passed" in message
    assert "ops@example.test" in message


def test_malformed_notifications_are_an_inventory_input_error(tmp_path):
    from orchestrator.errors import InputError

    def mutate(d):
        d["notifications"] = {"webhook": {"url": "ftp://x"}, "smtp": {"host": "m", "to": []},
                              "events": ["begin"]}
    with pytest.raises(InputError) as e:
        load_inventory(write_inventory(tmp_path, mutate))
    text = str(e.value)
    assert "notifications" in text and "hosts.yml:" in text
