"""One CLI session on a simulated router: views, prompts, privilege, paging, errors.

Huawei VRP and H3C Comware: <name> user view, `super` (secret) raises privilege,
`system-view` → [name], `interface X` → [name-X], `quit` / `return`, `undo …`,
`screen-length 0 temporary` (VRP) / `screen-length disable` (Comware), `save`.
Cisco IOS: name> → `enable` (secret) → name#, `configure terminal` → name(config)#,
`interface X` → name(config-if)#, `exit` / `end`, `no …`, `terminal length 0`, `write memory`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from routersim.device import PAGE, Device

VRP = ("huawei_vrp", "h3c_comware")

ERR = {  # the vendors' own rejection texts
    "huawei_vrp": {"unknown": "Error: Unrecognized command found at '^' position.",
                   "param": "Error: Wrong parameter found at '^' position.",
                   "incomplete": "Error: Incomplete command found at '^' position.",
                   "noroute": "Error: The static route does not exist.",
                   "password": "Error: Password is incorrect.",
                   "more": "  ---- More ----"},
    "h3c_comware": {"unknown": "% Unrecognized command found at '^' position.",
                    "param": "% Wrong parameter found at '^' position.",
                    "incomplete": "% Incomplete command found at '^' position.",
                    "noroute": "% The static route does not exist.",
                    "password": "% Password is wrong.",
                    "more": "---- More ----"},
    "cisco_ios": {"unknown": "% Invalid input detected at '^' marker.",
                  "param": "% Invalid input detected at '^' marker.",
                  "incomplete": "% Incomplete command.",
                  "noroute": "%No matching route to delete",
                  "password": "% Access denied",
                  "more": " --More-- "},
}


class Rejected(Exception):
    def __init__(self, kind: str, column: int = 0) -> None:
        super().__init__(kind)
        self.kind, self.column = kind, column


class Session:
    def __init__(self, dev: Device, secret: str, readline: Callable[[bool], str | None],
                 readkey: Callable[[], str], write: Callable[[str], None]) -> None:
        self.dev, self.secret = dev, secret
        self.readline, self.readkey, self.write = readline, readkey, write
        self.view = "user"  # user | system | interface
        self.iface: str | None = None
        self.privileged = False
        self.paging = True
        self.err = ERR[dev.platform]

    # -- prompts -----------------------------------------------------------------------------
    def prompt(self) -> str:
        h = self.dev.hostname
        if self.dev.platform in VRP:
            if self.view == "user":
                return f"<{h}>"
            return f"[{h}-{self.iface}]" if self.view == "interface" else f"[{h}]"
        if self.view == "user":
            return f"{h}#" if self.privileged else f"{h}>"
        return f"{h}(config-if)#" if self.view == "interface" else f"{h}(config)#"

    def loop(self) -> None:
        self.write("\r\n" + self.prompt())
        while True:
            line = self.readline(True)
            if line is None:
                return
            self.dev.command_log(line)
            try:
                out = self.handle(line.strip())
            except Rejected as r:
                col = len(self.prompt()) + r.column
                out = f"{' ' * col}^\n{self.err[r.kind]}" if r.kind in ("unknown", "param") \
                    else self.err[r.kind]
            if out == "__quit__":
                return
            if out:
                self.show(out)
            self.write("\r\n" + self.prompt())

    def show(self, text: str) -> None:
        """Write output; past a page, the vendor's More prompt until a key (q stops)."""
        lines = text.split("\n")
        i = 0
        while i < len(lines):
            chunk = lines[i:i + PAGE] if self.paging else lines[i:]
            self.write("\r\n" + "\r\n".join(chunk))
            i += len(chunk)
            if i < len(lines):
                self.write("\r\n" + self.err["more"])
                key = self.readkey()
                self.write("\r" + " " * len(self.err["more"]) + "\r")
                if key in ("q", "Q", "\x03"):
                    return

    # -- commands ---------------------------------------------------------------------------
    def handle(self, line: str) -> str:
        if not line:
            return ""
        words = line.split()
        if self.dev.platform in VRP:
            return self.vrp(words, line)
        return self.cisco(words, line)

    def _secret(self) -> bool:
        self.write("\r\nPassword:")
        given = self.readline(False)
        return given is not None and given == self.secret

    def vrp(self, w: list[str], line: str) -> str:
        d, p = self.dev, self.dev.platform
        if w[0] == "display" or w[0] == "dis":
            return self.display(w[1:], line)
        if (w[:2] == ["screen-length", "0"] and p == "huawei_vrp") or w == ["screen-length", "disable"]:
            self.paging = False
            return "Info: The configuration takes effect on the current user terminal interface only." \
                if p == "huawei_vrp" else ""
        if w == ["super"] or w[:2] == ["super", "3"] or w[:2] == ["super", "15"]:
            if not self._secret():
                return self.err["password"]
            self.privileged = True
            return ("Now user privilege is 3 level, and only those commands whose level is equal to "
                    "or less than this level can be used.\nPrivilege note: 0-VISIT, 1-MONITOR, "
                    "2-SYSTEM, 3-MANAGE") if p == "huawei_vrp" else \
                ("User privilege level is 15, and only those commands that can be used at or under "
                 "this level can be used.")
        if w == ["quit"]:
            if self.view == "interface":
                self.view, self.iface = "system", None
            elif self.view == "system":
                self.view = "user"
            else:
                return "__quit__"
            return ""
        if w == ["return"] and self.view != "user":
            self.view, self.iface = "user", None
            return ""
        if w == ["save"] or w == ["save", "force"]:
            if self.view != "user" and p == "huawei_vrp":
                raise Rejected("unknown", 0)
            if w == ["save"]:
                self.write("\r\nThe current configuration will be written to the device. "
                           "Are you sure to continue?[Y/N]")
                ans = self.readline(True)
                if (ans or "").strip().lower() not in ("y", "yes"):
                    return "Info: Save the configuration was cancelled."
            d.save()
            return "Info: Save the configuration successfully."
        if w == ["system-view"] and self.view == "user":
            if not self.privileged:
                raise Rejected("unknown", 0)
            self.view = "system"
            return "Enter system view, return user view with Ctrl+Z." if p == "huawei_vrp" else \
                "System View: return to User View with Ctrl+Z."
        if self.view == "user":
            raise Rejected("unknown", 0)
        if w[0] == "interface":
            return self._enter_interface(w, line)
        if w[:2] == ["ip", "route-static"] or w[:3] == ["undo", "ip", "route-static"]:
            undo = w[0] == "undo"
            args = w[3:] if undo else w[2:]
            return self._route(args, undo, line)
        if self.view == "interface" and w == ["shutdown"]:
            d.set_shut(self.iface, True)
            return ""
        if self.view == "interface" and w == ["undo", "shutdown"]:
            d.set_shut(self.iface, False)
            return ""
        raise Rejected("unknown", 0)

    def cisco(self, w: list[str], line: str) -> str:
        d = self.dev
        if w[0] == "show":
            return self.display(w[1:], line)
        if w[0] == "do" and len(w) > 1 and w[1] == "show":
            return self.display(w[2:], line)
        if w[:3] == ["terminal", "length", "0"]:
            self.paging = False
            return ""
        if w[:2] == ["terminal", "width"]:
            return ""
        if w == ["enable"] and self.view == "user":
            if self.privileged:
                return ""
            if not self._secret():
                return self.err["password"]
            self.privileged = True
            return ""
        if w in (["exit"], ["quit"], ["logout"]) and self.view == "user":
            return "__quit__"
        if w == ["exit"]:
            self.view, self.iface = ("config", None) if self.view == "interface" else ("user", None)
            return ""
        if w == ["end"] and self.view != "user":
            self.view, self.iface = "user", None
            return ""
        if not self.privileged:
            raise Rejected("unknown", 0)
        if self.view == "user":
            if w in (["write"], ["write", "memory"]) or w[:3] == ["copy", "running-config", "startup-config"]:
                d.save()
                return "Building configuration...\n[OK]"
            if w[:2] == ["configure", "terminal"] or w == ["conf", "t"]:
                self.view = "config"
                return "Enter configuration commands, one per line.  End with CNTL/Z."
            raise Rejected("unknown", 0)
        if w[0] == "interface":
            return self._enter_interface(w, line)
        if w[:2] == ["ip", "route"] or w[:3] == ["no", "ip", "route"]:
            undo = w[0] == "no"
            return self._route(w[3:] if undo else w[2:], undo, line)
        if self.view == "interface" and w == ["shutdown"]:
            d.set_shut(self.iface, True)
            return ""
        if self.view == "interface" and w == ["no", "shutdown"]:
            d.set_shut(self.iface, False)
            return ""
        raise Rejected("unknown", 0)

    def _enter_interface(self, w: list[str], line: str) -> str:
        name = " ".join(w[1:])
        if name not in self.dev.interfaces:
            raise Rejected("param" if len(w) > 1 else "incomplete", line.index(w[1]) if len(w) > 1 else 0)
        self.view, self.iface = "interface", name
        return ""

    def _route(self, args: list[str], undo: bool, line: str) -> str:
        if len(args) != 3:
            raise Rejected("incomplete")
        addr, mask, nh = args
        if not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", addr) or not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", mask):
            raise Rejected("param", line.index(addr))
        if nh.upper() != "NULL0":
            raise Rejected("param", line.rindex(nh))  # the simulator black-holes only
        if undo:
            if not self.dev.del_blackhole(addr, mask):
                return self.err["noroute"]
            return ""
        self.dev.add_blackhole(addr, mask)
        return ""

    # -- display / show ----------------------------------------------------------------------
    def display(self, w: list[str], line: str) -> str:
        from routersim import views

        out = views.render(self.dev, w)
        if out is None:
            raise Rejected("unknown", line.index(w[0]) if w else 0)
        if out == "__param__":
            raise Rejected("param", line.index(w[-1]))
        return out
