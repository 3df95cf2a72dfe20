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
from config_layouts import (  # noqa: E402
    BJ,
    CASES,
    INI_A,
    INI_A_LOC,
    INI_B,
    INI_B_LOC,
    KV_A,
    KV_B,
    KV_B_LOC,
    SZ3,
    XML_A,
    XML_B,
    XML_B_LOC,
    encoding_of,
)
from config_layouts import changed_lines as _changed_lines  # noqa: E402
from config_layouts import server_line as _server_line  # noqa: E402


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("servers", [BJ, SZ3], ids=["one", "three"])
def test_only_the_server_entries_differ(case, servers):
    fmt, before, loc = CASES[case]
    enc = encoding_of(case)
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
