#!/usr/bin/python
"""Copy the part of each gateway log a run wrote, for evidence (docs/playbooks.md).

A gateway's log on a firm's host holds days of lines; evidence wants the run's. drill
records each log's inode and size as the run starts (`evidence/log-marks.json`); this cuts
from there (less `context_bytes`, at a line start) to the end, into a temporary folder the
play fetches and then removes. A log rotated meanwhile (another inode, or shorter) is cut
from its start, and the result says so: the rotated file is not read. No mark: the last
`max_bytes`. Every cut says which bytes of how long a file it holds."""

from __future__ import annotations

DOCUMENTATION = r"""
module: drill_log_slice
short_description: Copy the bytes a run wrote to each of a host's gateway logs
description:
  - Reads only; writes copies into a new temporary folder (returned as C(folder)).
  - Supports check mode (the cuts are computed, nothing is copied).
options:
  logs:
    description: The logs on this host.
    type: list
    elements: dict
    required: true
    suboptions:
      id: {description: The gateway id (names the copy)., type: str, required: true}
      path: {description: Absolute path of the log., type: path, required: true}
      inode: {description: The log's inode as the run started., type: int}
      size: {description: Its size in bytes as the run started., type: int}
  context_bytes:
    description: Bytes before the mark also copied (from the next line start).
    type: int
    default: 65536
  max_bytes:
    description: At most this many bytes per log; a longer run keeps its first bytes.
    type: int
    default: 67108864
"""

RETURN = r"""
folder:
  description: The temporary folder holding the copies (remove it after fetching).
  type: str
  returned: unless check mode
logs:
  description: One item per log, in order.
  type: list
  returned: always
  contains:
    id: {description: The gateway id., type: str}
    path: {description: The log., type: str}
    copy_path: {description: "Its copy (folder/<id>), or null in check mode.", type: str}
    start: {description: First byte copied., type: int}
    end: {description: Byte after the last copied., type: int}
    size: {description: The log's size when cut., type: int}
    inode: {description: The log's inode when cut., type: int}
    from_mark: {description: Whether the cut starts from the run's mark., type: bool}
    rotated: {description: Whether the log was rotated since the mark., type: bool}
    truncated: {description: Whether max_bytes cut the end off., type: bool}
    sha256: {description: SHA-256 of the copied bytes., type: str}
"""

import hashlib
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

CHUNK = 1 << 20


def _line_start(fh, pos: int, limit: int) -> int:
    """The first line start at or after `pos` (pos itself when a line ends just before it)."""
    if pos <= 0:
        return 0
    fh.seek(pos - 1)
    seen = pos - 1
    while seen < limit:
        block = fh.read(min(CHUNK, limit - seen))
        if not block:
            break
        nl = block.find(b"\n")
        if nl >= 0:
            return seen + nl + 1
        seen += len(block)
    return limit


def _line_end(fh, start: int, end: int) -> int:
    """The end of the last whole line in [start, end) (end when none ends there)."""
    pos = end
    while pos > start:
        lo = max(start, pos - CHUNK)
        fh.seek(lo)
        block = fh.read(pos - lo)
        nl = block.rfind(b"\n")
        if nl >= 0:
            return lo + nl + 1
        pos = lo
    return end


def cut(spec: dict, context: int, most: int) -> dict:
    """Which bytes of one log to copy (no copying)."""
    path = spec["path"]
    st = os.stat(path)
    size, inode = st.st_size, st.st_ino
    mark_size, mark_inode = spec.get("size"), spec.get("inode")
    marked = mark_size is not None and mark_inode is not None
    rotated = marked and (inode != mark_inode or size < mark_size)
    with open(path, "rb") as fh:
        if marked and not rotated:
            start = _line_start(fh, max(0, mark_size - context), mark_size)
        elif marked:
            start = 0
        else:
            start = _line_start(fh, max(0, size - most), size)
        end = size
        truncated = end - start > most
        if truncated:
            end = _line_end(fh, start, start + most)
    return {"id": spec["id"], "path": path, "start": start, "end": end, "size": size,
            "inode": inode, "from_mark": bool(marked and not rotated), "rotated": bool(rotated),
            "truncated": truncated}


def copy(item: dict, dest: str) -> str:
    digest = hashlib.sha256()
    with open(item["path"], "rb") as src, open(dest, "wb") as out:
        src.seek(item["start"])
        left = item["end"] - item["start"]
        while left > 0:
            block = src.read(min(CHUNK, left))
            if not block:  # the file shrank under us: the copy says how much it holds
                item["end"] = item["end"] - left
                break
            out.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def main():
    module = AnsibleModule(
        argument_spec={
            "logs": {"type": "list", "elements": "dict", "required": True, "options": {
                "id": {"type": "str", "required": True},
                "path": {"type": "path", "required": True},
                "inode": {"type": "int"},
                "size": {"type": "int"},
            }},
            "context_bytes": {"type": "int", "default": 65536},
            "max_bytes": {"type": "int", "default": 67108864},
        },
        supports_check_mode=True,
    )
    context, most = module.params["context_bytes"], module.params["max_bytes"]
    if context < 0 or most < 1:
        module.fail_json(msg="drill_log_slice: expected context_bytes >= 0 and max_bytes >= 1")
    items = []
    for spec in module.params["logs"]:
        if not os.path.isabs(spec["path"]) or "/" in spec["id"] or spec["id"] in ("", ".", ".."):
            module.fail_json(msg=f"drill_log_slice: expected an absolute path and a plain id, "
                                 f"got {spec['id']!r}: {spec['path']!r}")
        try:
            items.append(cut(spec, context, most))
        except OSError as exc:
            module.fail_json(msg=f"drill_log_slice: cannot read {spec['path']}: {exc}")
    if module.check_mode:
        module.exit_json(changed=False, logs=[dict(i, copy_path=None, sha256=None) for i in items])
    need = sum(i["end"] - i["start"] for i in items)
    room = shutil.disk_usage(tempfile.gettempdir()).free
    if need > room // 2:  # a firm's host keeps working: never fill its temporary disk
        module.fail_json(msg=f"drill_log_slice: the cuts need {need} bytes, more than half of "
                             f"the {room} free in {tempfile.gettempdir()}; lower max_bytes")
    folder = tempfile.mkdtemp(prefix="drill-logs-")
    for item in items:
        dest = os.path.join(folder, item["id"])
        try:
            item["sha256"] = copy(item, dest)
        except OSError as exc:
            module.fail_json(msg=f"drill_log_slice: cannot copy {item['path']}: {exc}", folder=folder)
        item["copy_path"] = dest
    module.exit_json(changed=False, folder=folder, logs=items)


if __name__ == "__main__":
    main()
