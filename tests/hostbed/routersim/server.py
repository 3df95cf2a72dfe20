"""The simulated router's SSH server (paramiko), run inside the router's namespace:

    python server.py CONFIG.json

CONFIG: {platform, hostname, address, port, host_key (OpenSSH private key file), username,
password, secret, state_dir, interfaces: [...], routes: [...], tz_hours}. Password
authentication only (what a network device's local user has), one interactive shell per
session, several sessions at once. Prints "listening" once it accepts connections.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE.parent), str(_HERE.parent.parent)]  # routersim, and hostbed for its __init__

import paramiko  # noqa: E402

from routersim.cli import Session  # noqa: E402
from routersim.device import Device  # noqa: E402


class _Auth(paramiko.ServerInterface):
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password
        self.shell = threading.Event()

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        ok = username == self.user and password == self.password
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED if kind == "session" else \
            paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, *args) -> bool:
        return True

    def check_channel_shell_request(self, channel) -> bool:
        self.shell.set()
        return True

    def check_channel_exec_request(self, channel, command) -> bool:
        return False  # a router's CLI has no exec channel for us


class _Io:
    """Line and key reading on a channel, echoing as a terminal does."""

    def __init__(self, chan: paramiko.Channel) -> None:
        self.chan = chan
        self.buf = b""
        self.last_cr = False

    def _byte(self) -> bytes | None:
        if not self.buf:
            data = self.chan.recv(4096)
            if not data:
                return None
            self.buf = data
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def readline(self, echo: bool) -> str | None:
        out = bytearray()
        while True:
            b = self._byte()
            if b is None:
                return None
            if b == b"\n" and self.last_cr:
                self.last_cr = False
                continue
            self.last_cr = b == b"\r"
            if b in (b"\r", b"\n"):
                return out.decode(errors="replace")
            if b in (b"\x7f", b"\x08"):
                if out:
                    out.pop()
                    if echo:
                        self.write("\b \b")
                continue
            out += b
            if echo:
                self.chan.sendall(b)

    def readkey(self) -> str:
        b = self._byte()
        if b == b"\r":
            self.last_cr = True
        return (b or b"q").decode(errors="replace")

    def write(self, text: str) -> None:
        self.chan.sendall(text.encode())


def _serve(conn: socket.socket, key: paramiko.PKey, cfg: dict, dev: Device) -> None:
    t = paramiko.Transport(conn)
    t.add_server_key(key)
    auth = _Auth(cfg["username"], cfg["password"])
    try:
        t.start_server(server=auth)
        chan = t.accept(30)
        if chan is None or not auth.shell.wait(30):
            return
        io = _Io(chan)
        banner = "Info: The max number of VTY users is 10, and the number\r\n      of current VTY users " \
                 "on line is 1." if dev.platform == "huawei_vrp" else ""
        if banner:
            io.write(banner + "\r\n")
        Session(dev, cfg["secret"], io.readline, io.readkey, io.write).loop()
        chan.close()
    except (paramiko.SSHException, EOFError, OSError) as e:
        print(f"session ended: {e}", flush=True)
    finally:
        t.close()


def main(path: str) -> None:
    cfg = json.loads(Path(path).read_text())
    dev = Device.from_config(cfg)
    key = paramiko.Ed25519Key.from_private_key_file(cfg["host_key"])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((cfg["address"], int(cfg.get("port", 22))))
    srv.listen(20)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=_serve, args=(conn, key, cfg, dev), daemon=True).start()


if __name__ == "__main__":
    main(sys.argv[1])
