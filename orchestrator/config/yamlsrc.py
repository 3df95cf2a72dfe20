"""YAML loading that remembers where every value came from.

`load_yaml` returns plain Python data (dicts, lists, scalars) plus a `Lines` map from a
JSON path (a tuple of keys and indexes) to the 1-based line it starts on, so schema and
semantic errors can name `file:line`. It never raises anything but `InputError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from orchestrator.errors import InputError, Problem
from orchestrator.model.source import Lines, PathKey, dotted

# A document this large is not a drill file or an inventory; stop alias bombs early.
MAX_NODES = 200_000

def one_line(problems: Sequence[Problem]) -> list[Problem]:
    """Each problem prints on exactly one line, whatever text the input smuggled in."""

    def flat(text: str) -> str:
        return text.replace("\r", "\\r").replace("\n", "\\n")

    return [Problem(p.file, p.line, flat(p.field), flat(p.message)) for p in problems]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present: 10x faster
    """SafeLoader that keeps timestamps as strings: drill and inventory values are text."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(path: Path, label: str | None = None) -> tuple[object, Lines]:
    """Read and parse one YAML file; every problem is an `InputError` naming file:line."""
    file = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(Problem(file, None, "", "no such file")) from None
    except IsADirectoryError:
        raise InputError(Problem(file, None, "", "expected a YAML file, found a folder")) from None
    except UnicodeDecodeError as e:
        raise InputError(Problem(file, None, "", f"expected UTF-8 text ({e.reason})")) from None
    except OSError as e:
        raise InputError(Problem(file, None, "", f"cannot read: {e.strerror}")) from None
    return parse_yaml(text, file)


def parse_yaml(text: str, file: str) -> tuple[object, Lines]:
    lines = Lines(file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines
        problems: list[Problem] = []
        walker = _Walker(loader, lines, problems)
        data = walker.value(node, ())
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        msg = " ".join(str(x) for x in (e.context, e.problem) if x) or "invalid"
        raise InputError(one_line([Problem(file, mark.line + 1 if mark else None, "",
                                           f"not valid YAML: {msg}")])) from None
    except yaml.YAMLError as e:
        raise InputError(one_line([Problem(file, None, "", f"not valid YAML: {e}")])) from None
    except RecursionError:
        raise InputError(Problem(file, None, "", "not valid YAML: nested too deeply")) from None
    finally:
        loader.dispose()
    if problems:
        raise InputError(one_line(problems))
    return data, lines


_ANSIBLE_TAGS = ("!vault", "!unsafe")


class _Walker:
    def __init__(self, loader: _Loader, lines: Lines, problems: list[Problem]):
        self.loader = loader
        self.lines = lines
        self.problems = problems
        self.count = 0
        self.stack: set[int] = set()

    def value(self, node: yaml.Node, path: PathKey) -> object:
        self.count += 1
        if self.count > MAX_NODES:
            raise yaml.YAMLError(f"more than {MAX_NODES} values (alias expansion?)")
        self.lines.by_path.setdefault(path, node.start_mark.line + 1)
        if id(node) in self.stack:
            self.problems.append(self.lines.problem(path, "expected plain data, found a "
                                                    "recursive alias"))
            return None
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        self.stack.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
        finally:
            self.stack.discard(id(node))
        return None

    def _scalar(self, node: yaml.ScalarNode, path: PathKey) -> object:
        if node.tag in _ANSIBLE_TAGS:
            # Ansible's own tags: keep the text; a vault value is a secret to track.
            if node.tag == "!vault":
                self.lines.secrets.append(path)
            return str(node.value)
        if node.tag == "tag:yaml.org,2002:binary" or not node.tag.startswith("tag:yaml.org,2002:"):
            self.problems.append(self.lines.problem(path, f"unsupported YAML tag {node.tag}"))
            return None
        try:
            value = self.loader.construct_object(node, deep=True)
        except (ValueError, TypeError, OverflowError) as e:  # e.g. `!!int abc`
            self.problems.append(self.lines.problem(path, f"invalid value: {e}"))
            return None
        if not isinstance(value, str | int | float | bool | type(None)):
            self.problems.append(self.lines.problem(path, f"expected text, a number or a "
                                                    f"boolean, got {type(value).__name__}"))
            return None
        if isinstance(value, float) and value != value:  # NaN never equals itself
            self.problems.append(self.lines.problem(path, "expected a number, got .nan"))
            return None
        return value

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict:
        self.loader.flatten_mapping(node)  # resolves `<<` merge keys
        out: dict[str, object] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(Problem(self.lines.file, key_node.start_mark.line + 1,
                                             dotted(path), "expected a plain key, found a "
                                             "list or mapping"))
                continue
            key = self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                # YAML 1.1 reads `on:`/`yes:` as booleans and `1:` as a number.
                self.problems.append(Problem(self.lines.file, key_node.start_mark.line + 1,
                                             dotted((*path, str(key))),
                                             f"expected a text key; quote {key_node.value!r}"))
                key = str(key_node.value)
            if key in out:
                self.problems.append(Problem(self.lines.file, key_node.start_mark.line + 1,
                                             dotted((*path, key)), "duplicate key"))
            child = (*path, key)
            self.lines.by_path[child] = key_node.start_mark.line + 1
            out[key] = self.value(value_node, child)
        return out


def schema_problems(data: object, schema_name: str, lines: Lines, base: PathKey = (),
                    field_base: PathKey | None = None) -> list[Problem]:
    """Every JSON Schema violation of `data`, one `Problem` each, with file:line.

    `base` is where `data` sits in the file (an inventory's `all.vars.drill`), for line
    numbers; `field_base` (default `base`) prefixes the field names printed.
    """
    field_base = base if field_base is None else field_base
    schema = load_schema(schema_name)
    if _valid_fast(schema, data):
        return []
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema)
    out: list[Problem] = []
    seen: set[tuple[int | None, str, str]] = set()
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        for path, message in _explain(error):
            problem = lines.problem((*base, *path), message, field=dotted((*field_base, *path)))
            key = (problem.line, problem.field, problem.message)
            if key not in seen:
                seen.add(key)
                out.append(problem)
    return one_line(out)


def _valid_fast(schema: dict, data: object) -> bool:
    """jsonschema-rs (compiled) only answers "valid?", a hundred times faster than
    jsonschema on a 2,000-gateway inventory; an invalid document still goes through
    jsonschema, whose errors are explained one by one. tests/config/test_schema_fast.py
    checks the two agree on every schema."""
    import jsonschema_rs

    try:
        return bool(jsonschema_rs.Draft202012Validator(schema).is_valid(data))
    except Exception:  # a value it cannot take: jsonschema judges it instead
        return False


def load_schema(name: str) -> dict:
    import json

    return json.loads((Path(__file__).parents[1] / "schemas" / name).read_text(encoding="utf-8"))


def _explain(error) -> list[tuple[PathKey, str]]:
    """Turn one jsonschema error into `(path, "expected …")` pairs a person can act on."""
    path: PathKey = tuple(error.absolute_path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    inst = error.instance
    if kind == "required":
        props = schema.get("properties", {})
        missing = [r for r in error.validator_value if isinstance(inst, dict) and r not in inst]
        return [((*path, m), "required; missing" + _hint(props.get(m))) for m in missing] or \
            [(path, "required key missing")]
    if kind == "additionalProperties" and isinstance(inst, dict):
        known = sorted(schema.get("properties", {}))
        extra = [k for k in inst if k not in schema.get("properties", {})]
        expected = f"; expected one of: {', '.join(known)}" if known else ""
        # `x-keys-of`: whose keys these are (a verify expectation's: "probe ssh-tcp")
        of = f" of {schema['x-keys-of']}" if "x-keys-of" in schema else ""
        return [((*path, k), f"unknown key{of}{_did_you_mean(k, known)}{expected}") for k in extra]
    if kind == "dependentRequired":
        return [(path, f"{k} needs {', '.join(v)}") for k, v in error.validator_value.items()
                if isinstance(inst, dict) and k in inst and any(x not in inst for x in v)]
    if kind == "propertyNames":
        return [(path, f"bad name {error.instance!r}; expected lower-case letters, digits, '_'")]
    if kind in ("anyOf", "oneOf") and error.context:
        # Explain the one alternative of the right type (a mapping given where text or
        # {zh, en} is expected: say which key is wrong).
        branches: dict[object, list] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
        fitting = [errs for errs in branches.values()
                   if not any(e.validator == "type" and not e.relative_path for e in errs)]
        if len(fitting) == 1 and not (kind == "oneOf" and len(fitting[0]) == 0):
            return [x for sub in fitting[0] for x in _explain(sub)]
    if "x-expected" in schema and kind in ("anyOf", "oneOf", "pattern", "type"):
        got = "" if isinstance(inst, dict | list) and kind != "type" else f", got {_show(inst)}"
        return [(path, f"expected {schema['x-expected']}{got}")]
    if kind == "type":
        want = error.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        return [(path, f"expected {_TYPE_WORDS.get(want, want)}, got {_show(inst)}")]
    if kind == "enum":
        return [(path, f"expected one of: {', '.join(map(str, error.validator_value))}; "
                       f"got {_show(inst)}")]
    if kind == "const":
        return [(path, f"expected {error.validator_value!r}, got {_show(inst)}")]
    if kind == "pattern":
        return [(path, f"expected text matching {error.validator_value}, got {_show(inst)}")]
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        sign = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=",
                "exclusiveMaximum": "<"}[kind]
        return [(path, f"expected a number {sign} {error.validator_value}, got {_show(inst)}")]
    if kind == "minItems":
        return [(path, f"expected at least {error.validator_value} item(s)")]
    if kind == "maxItems":
        return [(path, f"expected at most {error.validator_value} item(s)")]
    if kind in ("minProperties", "maxProperties"):
        return [(path, f"expected {'at least' if kind == 'minProperties' else 'at most'} "
                       f"{error.validator_value} key(s)")]
    if kind == "minLength":
        return [(path, "expected non-empty text")]
    if kind == "uniqueItems":
        return [(path, "expected unique items")]
    if kind in ("anyOf", "oneOf") and error.context:
        # No annotation: report the alternative that got furthest.
        from jsonschema.exceptions import best_match

        return _explain(best_match(error.context))
    return [(path, f"invalid: {error.message}")]


_TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "text", "integer": "an integer",
               "number": "a number", "boolean": "true or false", "null": "null"}


def _did_you_mean(key: object, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(str(key), known, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _hint(sub: object) -> str:
    if isinstance(sub, dict) and isinstance(sub.get("description"), str):
        return f" ({sub['description']})"
    return ""


def _show(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"
