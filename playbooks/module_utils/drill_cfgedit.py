"""Edit a gateway's own config file in place: only its server entries change (issue 15).

Pure functions over bytes, shared by the `drill_config` Ansible module (which runs them on
the gateway host) and drill's unit tests. Everything that is not a server entry keeps its
exact bytes: encoding (utf-8 with or without BOM, gb18030, ...), comments, ordering, blank
lines and line endings (CRLF or LF). A file whose server entries cannot be found where the
locator says is refused (EditError), never guessed at.

Formats and their locators (docs/inventory.md, "Config adapters"):
  ini       section, and key "server{n}" (one key per server, numbered from `first`), or a
            key without {n} (one key, servers joined by `separator`), or address_key and
            port_key ("Server{n}IP", "Server{n}Port"); value "{address}:{port}";
            count_key (optional): a key holding the number of servers
  keyvalue  as ini, without section (key=value lines, e.g. server.1=addr:port)
  xml       path (element names from the root, "/"-separated, to each server element);
            address and port: "@attr" (an attribute) or "Child" (a child element's text);
            centre (optional, same form)
"""

from __future__ import annotations

import re

FORMATS = ("ini", "keyvalue", "xml")


class EditError(ValueError):
    """The file is not laid out as its locator says; nothing was changed."""


# ----------------------------------------------------------------------- text and bytes

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_XML_DECL = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.-]+)["']""")


def decode(data, encoding=None, xml=False):
    """(bom, text, encoding) of a file's bytes. The encoding: the locator's, else an XML
    declaration's, else the BOM's, else utf-8. Undecodable bytes are an EditError."""
    bom = b""
    for mark, enc in _BOMS:
        if data.startswith(mark):
            bom, encoding = mark, encoding or enc
            break
    if encoding is None and xml:
        m = _XML_DECL.match(data)
        encoding = m.group(1).decode("ascii") if m else None
    encoding = encoding or "utf-8"
    try:
        return bom, data[len(bom):].decode(encoding), encoding
    except (UnicodeDecodeError, LookupError) as e:
        raise EditError(f"the file is not {encoding} text: {e}") from None


def encode(bom, text, encoding):
    try:
        return bom + text.encode(encoding)
    except UnicodeEncodeError as e:
        raise EditError(f"a new value cannot be written in {encoding}: {e}") from None


def newline_of(text):
    """The file's own line ending: CRLF if it has any, else CR alone, else LF."""
    if "\r\n" in text:
        return "\r\n"
    return "\r" if "\r" in text and "\n" not in text else "\n"


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")


def lines_of(text):
    """The lines of `text`, each with its own ending (joined back they are `text`)."""
    return _LINE.findall(text)


def fill(pattern, server, n=None):
    """`pattern` with {address}, {port}, {centre} and {n} filled in."""
    out = pattern
    for key, value in (("address", server.get("address")), ("port", server.get("port")),
                       ("centre", server.get("centre")), ("n", n)):
        if value is not None:
            out = out.replace(f"{{{key}}}", str(value))
    return out


def edit(data, fmt, locator, servers):
    """The bytes of the file with its server entries set to `servers` ([{address, port,
    centre}] in order); only those entries differ from `data`."""
    if fmt == "ini":
        return edit_lines(data, locator, servers, sections=True)
    if fmt == "keyvalue":
        return edit_lines(data, locator, servers, sections=False)
    if fmt == "xml":
        return edit_xml(data, locator, servers)
    raise EditError(f"no in-place editor for format {fmt!r} (expected one of {', '.join(FORMATS)})")


# ------------------------------------------------------------------- ini and key=value

_SECTION = re.compile(r"^\s*\[\s*([^\]]*?)\s*\]")
_ENTRY = re.compile(r"^(\s*)([^=:\s;#\[][^=:]*?)(\s*[=:]\s*)(.*?)(\s+[;#].*)?$")


def _entries(lines, section, sections):
    """[(index, key, match)] of the key lines in scope (the section, or the whole file)."""
    out, inside = [], not sections or section is None
    for i, raw in enumerate(lines):
        body = raw.rstrip("\r\n")
        sec = _SECTION.match(body) if sections else None
        if sec:
            inside = sec.group(1).lower() == str(section).lower()
            continue
        if not inside or body.lstrip()[:1] in ("#", ";", ""):
            continue
        m = _ENTRY.match(body)
        if m:
            out.append((i, m.group(2), m))
    return out


def _key_regex(pattern, sections):
    parts = [re.escape(p) for p in pattern.split("{n}")]
    return re.compile("^" + r"(\d+)".join(parts) + "$", re.I if sections else 0)


def _set_value(raw, m, value):
    """The line `raw` (matched by _ENTRY as `m`) with its value replaced; its indent,
    separator, inline comment and line ending stay."""
    ending = raw[len(raw.rstrip("\r\n")):]
    return m.group(1) + m.group(2) + m.group(3) + value + (m.group(5) or "") + ending


def edit_lines(data, locator, servers, sections):
    bom, text, enc = decode(data, locator.get("encoding"))
    lines = lines_of(text)
    nl = newline_of(text)
    section = locator.get("section") if sections else None
    if sections and not section:
        raise EditError("an ini locator needs `section`")
    where = (f"section [{section}] ") if sections else ""
    entries = _entries(lines, section, sections)
    value_pattern = locator.get("value") or "{address}:{port}"
    keys = [k for k in ("address_key", "port_key") if locator.get(k)]
    if keys:
        fields = {"address_key": "{address}", "port_key": "{port}"}
        patterns = [(locator[k], fields[k]) for k in keys]
    elif locator.get("key"):
        patterns = [(locator["key"], value_pattern)]
    else:
        raise EditError("the locator needs `key`, or `address_key` and `port_key`")
    if any("{n}" not in p for p, _ in patterns):
        if len(patterns) != 1:
            raise EditError("address_key and port_key need {n} (one pair per server)")
        return encode(bom, _single_key(lines, entries, patterns[0][0], value_pattern, locator,
                                       servers, where, sections), enc)
    first = int(locator.get("first", 1))
    found = {}  # n -> [(line index, pattern, value pattern, match)]
    for pattern, vpat in patterns:
        rx = _key_regex(pattern, sections)
        for i, key, m in entries:
            km = rx.match(key)
            if km:
                found.setdefault(int(km.group(1)), []).append((i, pattern, vpat, m))
    if not found:
        wanted = " / ".join(p for p, _ in patterns)
        raise EditError(f"no server entries keys in {where}matching {wanted}")
    new = list(lines)
    drop = set()
    for n, items in found.items():
        k = n - first
        for i, _pattern, vpat, m in items:
            if 0 <= k < len(servers):
                new[i] = _set_value(lines[i], m, fill(vpat, servers[k], n))
            else:
                drop.add(i)
    last_n = max(found)
    last_lines = sorted(found[last_n], key=lambda t: t[0])
    extra = []
    for k in range(last_n - first + 1, len(servers)):
        n = k + first
        for _i, pattern, vpat, m in last_lines:
            km = _key_regex(pattern, sections).match(m.group(2))
            key = m.group(2)[:km.start(1)] + str(n) + m.group(2)[km.end(1):]
            line = m.group(1) + key + m.group(3) + fill(vpat, servers[k], n) + nl
            extra.append(line)
    anchor = max(i for i, _p, _v, _m in last_lines)
    if extra and not new[anchor].endswith(("\n", "\r")):
        new[anchor] += nl  # the last line had no ending: the new lines need one before them
        extra[-1] = extra[-1][:-len(nl)]
    new[anchor] = new[anchor] + "".join(extra)
    for i in drop:
        new[i] = ""
    out = "".join(new)
    count_key = locator.get("count_key")
    if count_key:
        out = _set_count(out, section, sections, count_key, len(servers), where)
    return encode(bom, out, enc)


def _single_key(lines, entries, key, value_pattern, locator, servers, where, sections):
    sep = locator.get("separator", ",")
    hits = [(i, m) for i, k, m in entries if (k.lower() == key.lower() if sections else k == key)]
    if len(hits) != 1:
        inside = "in " + where if where else ""
        raise EditError(f"expected one key {key!r} {inside}, found {len(hits)}")
    i, m = hits[0]
    new = list(lines)
    new[i] = _set_value(lines[i], m, sep.join(fill(value_pattern, s, n + 1) for n, s in enumerate(servers)))
    return "".join(new)


def _set_count(text, section, sections, key, count, where):
    lines = lines_of(text)
    hits = [(i, m) for i, k, m in _entries(lines, section, sections)
            if (k.lower() == key.lower() if sections else k == key)]
    if len(hits) != 1:
        raise EditError(f"expected one count key {key!r} in {where}found {len(hits)}")
    i, m = hits[0]
    lines[i] = _set_value(lines[i], m, str(count))
    return "".join(lines)


def read_lines(data, locator, sections):
    """[(n, {key: value})] of the server entries (for tests and the diff's summary)."""
    _bom, text, _enc = decode(data, locator.get("encoding"))
    lines = lines_of(text)
    entries = _entries(lines, locator.get("section"), sections)
    out = {}
    for name in ("key", "address_key", "port_key"):
        pattern = locator.get(name)
        if pattern and "{n}" in pattern:
            rx = _key_regex(pattern, sections)
            for _i, key, m in entries:
                km = rx.match(key)
                if km:
                    out.setdefault(int(km.group(1)), {})[name] = m.group(4)
    return sorted(out.items())


# --------------------------------------------------------------------------------- xml

_TOKEN = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<![A-Za-z][^>]*>"
    r"|</\s*(?P<close>[\w:.-]+)\s*>"
    r"|<(?P<open>[\w:.-]+)(?P<attrs>(?:\s+[\w:.-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(?P<empty>/?)>",
    re.S)


def _local(name):
    return name.split(":")[-1]


def _elements(text, path):
    """[(start, end, start_tag_end)] of the elements at `path` (local names from the root)."""
    want = [p for p in path.strip("/").split("/") if p]
    stack, out, open_at = [], [], None
    for m in _TOKEN.finditer(text):
        if m.group("open"):
            stack.append(_local(m.group("open")))
            if stack == want:
                open_at = (m.start(), m.end())
                if m.group("empty"):
                    out.append((m.start(), m.end(), m.end()))
                    open_at = None
            if m.group("empty"):
                stack.pop()
        elif m.group("close"):
            if stack == want and open_at is not None:
                out.append((open_at[0], m.end(), open_at[1]))
                open_at = None
            if not stack or stack[-1] != _local(m.group("close")):
                raise EditError(f"the XML is not well formed near offset {m.start()} (</{m.group('close')}>)")
            stack.pop()
    if stack:
        raise EditError(f"the XML is not well formed: <{stack[-1]}> is never closed")
    return out


def _xml_escape(value):
    return (str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _set_field(elem, spec, value, start_tag_end):
    """`elem` (one element's text) with its attribute "@name" or child element "Name"
    text set to `value`."""
    if spec.startswith("@"):
        name = re.escape(spec[1:])
        head = elem[:start_tag_end]
        rx = re.compile(rf"(\s(?:[\w.-]+:)?{name}\s*=\s*)([\"'])(.*?)\2", re.S)
        if not rx.search(head):
            raise EditError(f"a server element has no attribute {spec[1:]!r}")
        head = rx.sub(lambda m: m.group(1) + m.group(2) + _xml_escape(value) + m.group(2), head, count=1)
        return head + elem[start_tag_end:]
    inner = _elements(elem, "/".join((_root_name(elem), spec)))
    if len(inner) != 1 or inner[0][1] == inner[0][2]:
        raise EditError(f"a server element has {len(inner)} <{spec}> children with text (expected one)")
    s, e, te = inner[0]
    close = elem.rindex("<", s, e)
    return elem[:te] + _xml_escape(value) + elem[close:]


def _root_name(elem):
    m = _TOKEN.match(elem)
    return _local(m.group("open"))


def _server_element(elem, locator, server):
    out = elem
    for field in ("address", "port", "centre"):
        spec = locator.get(field)
        if spec and server.get(field) is not None:
            tag_end = _TOKEN.match(out).end()
            out = _set_field(out, spec, server[field], tag_end)
    return out


def edit_xml(data, locator, servers):
    bom, text, enc = decode(data, locator.get("encoding"), xml=True)
    for need in ("path", "address", "port"):
        if not locator.get(need):
            raise EditError(f"an xml locator needs `{need}`")
    found = _elements(text, locator["path"])
    if not found:
        raise EditError(f"no server elements at {locator['path']}")
    if not servers:
        raise EditError("no servers to write")
    pieces, pos = [], 0
    for k, (s, e, _te) in enumerate(found):
        gap_start = s
        while gap_start > pos and text[gap_start - 1] in " \t\r\n":
            gap_start -= 1
        if k < len(servers):
            pieces.append(text[pos:s])
            pieces.append(_server_element(text[s:e], locator, servers[k]))
        else:
            pieces.append(text[pos:gap_start])  # an entry beyond the new list: gone with its indent
        pos = e
    s, e, _te = found[-1]
    gap_start = s
    while gap_start > 0 and text[gap_start - 1] in " \t\r\n":
        gap_start -= 1
    gap = text[gap_start:s]
    for k in range(len(found), len(servers)):
        pieces.append(gap + _server_element(text[s:e], locator, servers[k]))
    pieces.append(text[pos:])
    return encode(bom, "".join(pieces), enc)


def read_xml(data, locator):
    """[{address, port, centre}] of the server elements (values as written)."""
    _bom, text, _enc = decode(data, locator.get("encoding"), xml=True)
    out = []
    for s, e, te in _elements(text, locator["path"]):
        elem, item = text[s:e], {}
        for field in ("address", "port", "centre"):
            spec = locator.get(field)
            if not spec:
                continue
            if spec.startswith("@"):
                m = re.search(rf"\s(?:[\w.-]+:)?{re.escape(spec[1:])}\s*=\s*([\"'])(.*?)\1", elem[:te - s], re.S)
                item[field] = m.group(2) if m else None
            else:
                inner = _elements(elem, "/".join((_root_name(elem), spec)))
                item[field] = elem[inner[0][2]:elem.rindex("<", inner[0][0], inner[0][1])] if inner else None
        out.append(item)
    return out
