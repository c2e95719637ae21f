"""Where the revision files are, read from the project's Alembic configuration.

Alembic takes each option from ``alembic.ini`` ``[alembic]`` first and then from
``pyproject.toml`` ``[tool.alembic]`` (the ``pyproject`` templates), with
``version_locations`` winning over ``script_location``/versions. The checker
reads both files the same way, so running it with no argument from a user's
project root checks the directories ``alembic upgrade`` would run.
"""

from __future__ import annotations

import configparser
import json
import os
import re
from pathlib import Path
from typing import Any

from .model import InputError

OPTIONS = ("version_locations", "script_location", "path_separator", "version_path_separator")


def default_versions_dirs(cwd: Path) -> list[Path]:
    """The versions directories named by ./alembic.ini or ./pyproject.toml."""
    ini, pyproject = cwd / "alembic.ini", cwd / "pyproject.toml"
    ini_options = _ini_options(ini) if ini.is_file() else {}
    toml_options = _toml_options(pyproject) if pyproject.is_file() else {}
    if not ini.is_file() and not toml_options:
        raise InputError(
            "alembic.ini", 0, "not found in the current directory (nor [tool.alembic]); pass PATH"
        )

    def option(name: str) -> tuple[Any, str, Path] | None:
        """The value, the file it came from (for errors) and that file's folder (%(here)s)."""
        for options, source in ((ini_options, ini), (toml_options, pyproject)):
            if options.get(name):
                return options[name], source.name, source.resolve().parent
        return None

    locations = option("version_locations")
    if locations is not None:
        value, source, here = locations
        if isinstance(value, list):
            items = [str(item) for item in value]
        else:
            separator = option("path_separator") or option("version_path_separator")
            items = _split_locations(value, separator[0] if separator else None)
        return [_config_path(item, here, cwd, source) for item in items]
    script_location = option("script_location")
    if script_location is None:
        where = "[alembic]" if ini.is_file() else "[tool.alembic]"
        raise InputError(
            str(ini if ini.is_file() else pyproject), 0, f"no script_location in {where}"
        )
    value, source, here = script_location
    return [_config_path(str(value), here, cwd, source) / "versions"]


def _ini_options(ini: Path) -> dict[str, str]:
    """The [alembic] options of an ini file; a file without the section has none."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini, encoding="utf-8")
    except configparser.Error as exc:
        raise InputError(str(ini), getattr(exc, "lineno", 0) or 0, "cannot parse") from exc
    if not parser.has_section("alembic"):
        return {}
    section = parser["alembic"]
    return {name: section[name].strip() for name in OPTIONS if section.get(name, "").strip()}


def _toml_options(pyproject: Path) -> dict[str, Any]:
    """The [tool.alembic] table of pyproject.toml, or {} when it has none."""
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(pyproject), 0, f"cannot read ({exc})") from exc
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:
        return read_tool_alembic(text)
    try:
        table = tomllib.loads(text).get("tool", {}).get("alembic", {})
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(pyproject), 0, f"cannot parse ({exc})") from exc
    return {name: table[name] for name in OPTIONS if name in table}


TABLE_HEADER = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+\s*(#.*)?$")
KEY_VALUE = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*=\s*(.*)$")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')


def read_tool_alembic(text: str) -> dict[str, Any]:
    """Python 3.10 has no tomllib: read the string and string-list options of [tool.alembic].

    Enough for the options that locate revisions, which are strings or arrays of
    strings in every Alembic template; other keys are skipped.
    """
    options: dict[str, Any] = {}
    in_table = False
    pending: tuple[str, str] | None = None
    for line in text.splitlines():
        if pending is not None:
            name, so_far = pending
            so_far += "\n" + line
            if "]" in _without_strings(line):
                options[name] = [_string_value(s) for s in STRING.findall(so_far)]
                pending = None
            else:
                pending = (name, so_far)
            continue
        header = TABLE_HEADER.match(line)
        if header:
            in_table = header.group(1).replace(" ", "") == "tool.alembic"
            continue
        pair = KEY_VALUE.match(line) if in_table else None
        if pair is None or pair.group(1) not in OPTIONS:
            continue
        name, value = pair.groups()
        if value.startswith("["):
            if "]" in _without_strings(value):
                options[name] = [_string_value(s) for s in STRING.findall(value)]
            else:
                pending = (name, value)
        elif STRING.match(value):
            options[name] = _string_value(STRING.match(value).group(0))  # type: ignore[union-attr]
    return options


def _without_strings(line: str) -> str:
    """The line with its quoted strings and comment removed, to find a closing bracket."""
    return STRING.sub("", line).split("#", 1)[0]


def _string_value(token: str) -> str:
    """A TOML basic string decodes like JSON; a literal string is taken as written."""
    return json.loads(token) if token.startswith('"') else token[1:-1]


def _split_locations(value: str, separator: str | None) -> list[str]:
    """Split version_locations by the separator option, or by spaces/commas as Alembic did."""
    named = {"space": None, "newline": "\n", "os": os.pathsep, "colon": ":", "semicolon": ";"}
    if separator is None:
        return [part for part in re.split(r"[\s,]+", value) if part]
    sep = named.get(separator, separator)
    return [part.strip() for part in value.split(sep) if part.strip()]


def _config_path(value: str, here: Path, cwd: Path, source: str) -> Path:
    """Interpolate %(here)s; relative paths are relative to the working directory."""
    expanded = value.replace("%(here)s", str(here))
    if re.match(r"^[\w.]+:[\w/.]+$", expanded) and not Path(expanded).exists():
        raise InputError(source, 0, f"package-style location {value!r}: pass PATH")
    path = Path(expanded)
    return path if path.is_absolute() else cwd / path
