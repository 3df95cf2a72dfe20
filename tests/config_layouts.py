"""Vendor config layouts for the in-place editors' tests (issue 15): two differently laid-out
files per format (INI, key=value, XML), each with its locator, and how to tell a server
entry's line. Shared by tests/adapters/test_cfgedit.py (the pure edit) and
tests/ansible/test_drill_config_module.py (the module on a host, through Ansible)."""

from __future__ import annotations

import difflib

BJ = [{"centre": "BJ", "address": "172.70.101.30", "port": 7043}]
SZ3 = [{"centre": "NF", "address": "172.50.101.30", "port": 7043},
       {"centre": "FT", "address": "172.60.101.30", "port": 7043},
       {"centre": "BJ", "address": "172.70.101.30", "port": 7043}]


def changed_lines(before: bytes, after: bytes) -> tuple[list[bytes], list[bytes]]:
    """The lines (with their endings) only in `before`, and only in `after`."""
    a, b = before.splitlines(True), after.splitlines(True)
    sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    gone, new = [], []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op != "equal":
            gone += a[i1:i2]
            new += b[j1:j2]
    return gone, new


# Layout A: CRLF, utf-8 with BOM, Chinese comments, numbered keys, inline comment, a count.
INI_A = ("\ufeff; 深证通网关配置 (vendor)\r\n[General]\r\nGatewayId=W000011T\r\nLogLevel=2\r\n\r\n"
         "[Exchange]\r\n; 服务器列表\r\nServerCount=2\r\nServer1=172.50.101.30:7043 ; 南方\r\n"
         "Server2=172.60.101.30:7043\r\nTimeout=30\r\n\r\n[Tail]\r\nServer1=keep-me\r\n").encode("utf-8")
INI_A_LOC = {"section": "Exchange", "key": "Server{n}", "count_key": "ServerCount"}

# Layout B: LF, gb18030, separate address/port keys, spaces around '=', no final newline.
INI_B = ("# 网关 W000012T\n[main]\nname = 交易网关\n\n[servers]\nhost1 = 172.60.101.30\nport1 = 7043\n"
         "# 备用\nhost2 = 172.50.101.30\nport2 = 7043\n\n[log]\npath = /var/log/gw.log").encode("gb18030")
INI_B_LOC = {"section": "servers", "address_key": "host{n}", "port_key": "port{n}", "encoding": "gb18030"}

KV_A = b"# key=value vendor file\nserver.1=172.50.101.30:7043\nserver.2=172.60.101.30:7043\nretry=3\n"
KV_A_LOC = {"key": "server.{n}"}
KV_B = ("! 旧格式\r\ngateway.id = W000013T\r\nservers = 172.60.101.30:7043;172.50.101.30:7043\r\n"
        "heartbeat = 5\r\n").encode("gb18030")
KV_B_LOC = {"key": "servers", "separator": ";", "encoding": "gb18030"}

XML_A = ('<?xml version="1.0" encoding="gb18030"?>\r\n<!-- 深证通 -->\r\n<Config>\r\n'
         '  <Gateway id="W000014T"/>\r\n  <Exchange>\r\n    <ServerList>\r\n'
         '      <Server name="NF" ip="172.50.101.30" port="7043"/>\r\n'
         '      <!-- 备用 -->\r\n      <Server name="FT" ip="172.60.101.30" port="7043"/>\r\n'
         '    </ServerList>\r\n  </Exchange>\r\n</Config>\r\n').encode("gb18030")
XML_A_LOC = {"path": "Config/Exchange/ServerList/Server", "address": "@ip", "port": "@port",
             "centre": "@name"}
XML_B = (b'<?xml version="1.0"?>\n<gw:root xmlns:gw="urn:v">\n\t<servers>\n\t\t<server>\n'
         b'\t\t\t<host>172.60.101.30</host>\n\t\t\t<port>7043</port>\n\t\t</server>\n'
         b'\t\t<server>\n\t\t\t<host>172.50.101.30</host>\n\t\t\t<port>7043</port>\n\t\t</server>\n'
         b'\t</servers>\n\t<other><host>not-a-server</host></other>\n</gw:root>\n')
XML_B_LOC = {"path": "root/servers/server", "address": "host", "port": "port"}

CASES = {
    "ini-A": ("ini", INI_A, INI_A_LOC), "ini-B": ("ini", INI_B, INI_B_LOC),
    "kv-A": ("keyvalue", KV_A, KV_A_LOC), "kv-B": ("keyvalue", KV_B, KV_B_LOC),
    "xml-A": ("xml", XML_A, XML_A_LOC), "xml-B": ("xml", XML_B, XML_B_LOC),
}


def server_line(line: bytes, enc: str) -> bool:
    """A line that is a server entry (or the count of them) in the layouts above."""
    text = line.decode(enc).strip().lower()
    return text.startswith(("server1", "server2", "server3", "servercount", "host", "port",
                            "server.", "servers", "<server ", "<host>", "<port>", "<server>",
                            "</server>"))


def encoding_of(case: str) -> str:
    """The case's text encoding (what its locator says, else the file's own declaration)."""
    loc = CASES[case][2]
    return loc.get("encoding") or ("gb18030" if case == "xml-A" else "utf-8")
