"""Issue 15: the in-place config editors (playbooks/module_utils/drill_cfgedit.py). Two
differently laid-out files per format: after the edit only the server entries differ,
everything else keeps its bytes (encoding, comments, order, line endings); a file not laid
out as its locator says is refused, unchanged."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "playbooks" / "module_utils"))

import drill_cfgedit as ce  # noqa: E402

BJ = [{"centre": "BJ", "address": "172.70.101.30", "port": 7043}]
SZ3 = [{"centre": "NF", "address": "172.50.101.30", "port": 7043},
       {"centre": "FT", "address": "172.60.101.30", "port": 7043},
       {"centre": "BJ", "address": "172.70.101.30", "port": 7043}]


def _changed_lines(before: bytes, after: bytes) -> tuple[list[bytes], list[bytes]]:
    """The lines (with their endings) only in `before`, and only in `after`."""
    a, b = before.splitlines(True), after.splitlines(True)
    import difflib

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


def _server_line(line: bytes, enc: str) -> bool:
    """A line that is a server entry (or the count of them) in the layouts above."""
    text = line.decode(enc).strip().lower()
    return text.startswith(("server1", "server2", "server3", "servercount", "host", "port",
                            "server.", "servers", "<server ", "<host>", "<port>", "<server>",
                            "</server>"))


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("servers", [BJ, SZ3], ids=["one", "three"])
def test_only_the_server_entries_differ(case, servers):
    fmt, before, loc = CASES[case]
    enc = loc.get("encoding") or ("gb18030" if case == "xml-A" else "utf-8")
    after = ce.edit(before, fmt, loc, servers)
    gone, new = _changed_lines(before, after)
    assert gone or new
    assert all(_server_line(ln, enc) for ln in gone + new), (gone, new)
    # the line endings and the encoding are the file's own
    crlf = b"\r\n" in before
    assert all(ln.endswith(b"\r\n") == crlf for ln in new if ln.endswith(b"\n")), new
    assert after.startswith(b"\xef\xbb\xbf") == before.startswith(b"\xef\xbb\xbf")
    text = after.decode(enc)
    for s in servers:
        assert s["address"] in text
    if fmt == "xml":
        assert ce.read_xml(after, loc)[:len(servers)] == [
            {k: str(v) for k, v in s.items() if loc.get(k)} for s in servers]


SZ2 = [{"centre": "FT", "address": "10.0.0.1", "port": 9001}, {"centre": "NF", "address": "10.0.0.2", "port": 9002}]


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_same_count_back_gives_the_original_bytes(case):
    """Editing to another list of the same length and back to the old one is the identity."""
    fmt, before, loc = CASES[case]
    if fmt == "xml":
        old = ce.read_xml(before, loc)
    else:
        old = [{"address": a, "port": p} for a, p in
               (x.split(":") for x in ("172.50.101.30:7043", "172.60.101.30:7043"))]
        if case == "ini-B" or case == "kv-B":
            old.reverse()
    edited = ce.edit(before, fmt, loc, SZ2)
    assert edited != before
    assert ce.edit(edited, fmt, loc, old) == before


def test_ini_numbered_keys_in_order_and_count():
    after = ce.edit(INI_A, "ini", INI_A_LOC, SZ3).decode("utf-8")
    assert ("ServerCount=3\r\nServer1=172.50.101.30:7043 ; 南方\r\nServer2=172.60.101.30:7043\r\n"
            "Server3=172.70.101.30:7043\r\nTimeout=30") in after
    assert "[Tail]\r\nServer1=keep-me\r\n" in after  # another section's same key is not a server
    one = ce.edit(INI_A, "ini", INI_A_LOC, BJ).decode("utf-8")
    assert "ServerCount=1\r\nServer1=172.70.101.30:7043 ; 南方\r\nTimeout=30" in one


def test_separate_address_and_port_keys_keep_their_spacing_and_no_final_newline():
    after = ce.edit(INI_B, "ini", INI_B_LOC, SZ3).decode("gb18030")
    assert ("host1 = 172.50.101.30\nport1 = 7043\n# 备用\nhost2 = 172.60.101.30\nport2 = 7043\n"
            "host3 = 172.70.101.30\nport3 = 7043\n\n[log]") in after
    assert after.endswith("path = /var/log/gw.log")


def test_single_key_list_and_xml_children():
    kv = ce.edit(KV_B, "keyvalue", KV_B_LOC, SZ3).decode("gb18030")
    assert "servers = 172.50.101.30:7043;172.60.101.30:7043;172.70.101.30:7043\r\n" in kv
    xml = ce.edit(XML_B, "xml", XML_B_LOC, BJ)
    assert xml == (b'<?xml version="1.0"?>\n<gw:root xmlns:gw="urn:v">\n\t<servers>\n\t\t<server>\n'
                   b'\t\t\t<host>172.70.101.30</host>\n\t\t\t<port>7043</port>\n\t\t</server>\n'
                   b'\t</servers>\n\t<other><host>not-a-server</host></other>\n</gw:root>\n')


@pytest.mark.parametrize("fmt,data,loc,why", [
    ("ini", INI_A, {"section": "Nowhere", "key": "Server{n}"}, "no server entries"),
    ("ini", INI_A, {"section": "Exchange", "key": "Host{n}"}, "no server entries"),
    ("keyvalue", KV_A, {"key": "servers"}, "expected one key"),
    ("xml", XML_A, {"path": "Config/Servers/Server", "address": "@ip", "port": "@port"}, "no server elements"),
    ("xml", XML_A, {"path": "Config/Exchange/ServerList/Server", "address": "@host", "port": "@port"},
     "no attribute"),
    ("xml", b"<a><b></a>", {"path": "a/b", "address": "@x", "port": "@y"}, "not well formed"),
    ("ini", b"[x]\nk1=caf\xe9\n", {"section": "x", "key": "k{n}", "encoding": "ascii"}, "not ascii text"),
    ("yaml", b"x: 1", {}, "no in-place editor"),
])
def test_a_file_not_laid_out_as_its_locator_says_is_refused(fmt, data, loc, why):
    with pytest.raises(ce.EditError, match=why):
        ce.edit(data, fmt, loc, BJ)
