"""The drill catalogue `drill list` shows: id, title, clauses and cadence of every drill.

Every drill file is validated in full by `scenario.load_drill` (YAML, JSON Schema, meaning,
templates) the first time it is seen. What the list needs of a *valid* file is then
kept in a cache keyed by the file's SHA-256 and by a fingerprint of the validator (drill
version, schema, the validating modules, the parser and schema libraries), so an
unchanged file is listed without importing yaml, jsonschema or jinja2. A new, changed
or invalid file is always validated afresh, and its problems reported as before: the
cache never holds an invalid file. A missing, unreadable or corrupt cache is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from orchestrator.config.project import drill_files
from orchestrator.errors import InputError, Problem

_FORMAT = 1
# Whatever decides whether a drill file is valid; a change to any of them voids the cache.
_VALIDATOR_FILES = ("config/scenario.py", "config/yamlsrc.py", "model/drill.py", "model/source.py",
                    "model/inventory.py", "errors.py",
                    "schemas/drill.schema.json")
_VALIDATOR_LIBS = ("yaml", "jsonschema", "jsonschema_rs", "jinja2")


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    title_zh: str
    title_en: str
    spec: tuple[str, ...]
    cadence: str
    path: Path
    sha256: str
    id_line: int | None  # where `id:` is, for a duplicate-id problem

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en


def list_drills(folder: Path, cache_dir: Path | None) -> list[CatalogEntry]:
    """Every drill in `folder`, sorted by id; `InputError` lists every problem in every file.

    Same drills and same problems as `scenario.load_drills`. `cache_dir=None` disables
    the cache.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(Problem(str(folder), None, "", "no such drills folder"))
    files = drill_files(folder)
    store = _Store.open(cache_dir, folder) if cache_dir is not None else None
    entries: list[CatalogEntry] = []
    problems: list[Problem] = []
    for file in files:
        digest = _sha256(file)
        hit = store.get(file, digest) if store and digest else None
        if hit is not None:
            entries.append(hit)
            continue
        try:
            entry = _validated(file)
        except InputError as e:
            problems += e.problems
            continue
        entries.append(entry)
        # Cache it only if the file load_drill hashed is the one looked up above.
        if store and entry.sha256 == digest:
            store.put(entry)
    if store:
        store.save({f.name for f in files})
    seen: dict[str, Path] = {}
    for d in entries:
        if d.id in seen:
            problems.append(Problem(str(d.path), d.id_line, "id",
                                    f"duplicate drill id; also in {seen[d.id]}"))
        seen[d.id] = d.path
    if problems:
        raise InputError(problems)
    return sorted(entries, key=lambda d: d.id)


def _validated(file: Path) -> CatalogEntry:
    from orchestrator.config.scenario import load_drill

    d = load_drill(file)
    return CatalogEntry(id=d.id, title_zh=d.title.zh, title_en=d.title.en, spec=tuple(d.spec),
                        cadence=d.cadence, path=d.path, sha256=d.sha256,
                        id_line=d.source.line(("id",)))


def _sha256(file: Path) -> str | None:
    try:
        return hashlib.sha256(file.read_bytes()).hexdigest()
    except OSError:
        return None  # load_drill reports why it cannot be read


def validator_fingerprint() -> str | None:
    """A digest of everything that judges a drill file; None if any of it cannot be read."""
    from importlib.util import find_spec

    import orchestrator

    here = Path(orchestrator.__file__).parent
    h = hashlib.sha256(f"{_FORMAT} {orchestrator.__version__}".encode())
    try:
        for name in _VALIDATOR_FILES:
            h.update(name.encode() + b"\0" + (here / name).read_bytes())
        for lib in _VALIDATOR_LIBS:
            # A reinstalled or upgraded library rewrites its files: path, size and mtime.
            spec = find_spec(lib)
            origin = spec.origin if spec else None
            st = os.stat(origin) if origin else None
            h.update(f"{lib} {origin} {st.st_size if st else ''} {st.st_mtime_ns if st else ''}"
                     .encode())
    except (OSError, ImportError, ValueError):
        return None
    return h.hexdigest()


@dataclass
class _Store:
    """One cache file per drills folder: `<cache_dir>/catalog-<digest of folder>.json`."""

    file: Path
    validator: str
    entries: dict[str, dict]
    dirty: bool = False

    @classmethod
    def open(cls, cache_dir: Path, folder: Path) -> _Store | None:
        validator = validator_fingerprint()
        if validator is None:
            return None
        key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
        store = cls(Path(cache_dir) / f"catalog-{key}.json", validator, {})
        try:
            data = json.loads(store.file.read_text(encoding="utf-8"))
            if data.get("format") == _FORMAT and data.get("validator") == validator \
                    and isinstance(data.get("drills"), dict):
                store.entries = data["drills"]
            else:
                store.dirty = True
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError):
            store.dirty = True  # corrupt or unreadable: start afresh, rewrite it
        return store

    def get(self, file: Path, digest: str) -> CatalogEntry | None:
        raw = self.entries.get(file.name)
        try:
            if raw["sha256"] != digest:
                return None
            entry = CatalogEntry(id=raw["id"], title_zh=raw["title"]["zh"],
                                 title_en=raw["title"]["en"], spec=tuple(raw["spec"]),
                                 cadence=raw["cadence"], path=file, sha256=digest,
                                 id_line=raw["id_line"])
        except (TypeError, KeyError):
            return None
        if not isinstance(raw["spec"], list):
            return None
        strings = (entry.id, entry.title_zh, entry.title_en, entry.cadence, *entry.spec)
        if not all(isinstance(s, str) for s in strings) \
                or not (entry.id_line is None or type(entry.id_line) is int):
            return None
        return entry

    def put(self, e: CatalogEntry) -> None:
        self.entries[e.path.name] = {"sha256": e.sha256, "id": e.id,
                                     "title": {"zh": e.title_zh, "en": e.title_en},
                                     "spec": list(e.spec), "cadence": e.cadence,
                                     "id_line": e.id_line}
        self.dirty = True

    def save(self, names: set[str]) -> None:
        """Write the cache if it changed, dropping files gone from the folder; atomically."""
        for gone in set(self.entries) - names:
            del self.entries[gone]
            self.dirty = True
        if not self.dirty:
            return
        body = json.dumps({"format": _FORMAT, "validator": self.validator,
                           "drills": self.entries}, ensure_ascii=False, sort_keys=True)
        tmp = self.file.with_name(f".{self.file.name}.{os.getpid()}.tmp")
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(body, encoding="utf-8")
            os.replace(tmp, self.file)  # readers see the old file or the new one, never half
        except OSError:
            with contextlib.suppress(OSError):  # a cache we cannot write only costs time
                tmp.unlink(missing_ok=True)
