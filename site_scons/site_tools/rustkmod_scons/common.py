"""Helpers every part of the tool uses: settings in Value nodes, running commands, messages."""

from __future__ import annotations

import json
import subprocess
import sys

import SCons.Action

from rustkmod import RustkmodError

_MEMO: dict = {}
_NOTES: set = set()


def note(text: str) -> None:
    """A one-line remark at configuration time, once per run."""
    if text not in _NOTES:
        _NOTES.add(text)
        print(f"scons: rustkmod: {text}")


def memo(key, compute):
    if key not in _MEMO:
        _MEMO[key] = compute()
    return _MEMO[key]


def settings_of(node) -> dict:
    return json.loads(node.read())


def run(command: list[str], **kwargs) -> int:
    try:
        return subprocess.run(command, **kwargs).returncode
    except FileNotFoundError:
        print(f"scons: *** rustkmod: {command[0]} not found; install it (./setup does) or set the "
              "variable that names it", file=sys.stderr)
        return 127


def report_error(err: RustkmodError) -> int:
    print(f"scons: *** rustkmod: {err}", file=sys.stderr)
    return 1


def message(label: str):
    return lambda target, source, env: f"{label:<8} {target[0]}"


def action(function, message, varlist=()):
    return SCons.Action.Action(function, strfunction=message, varlist=list(varlist))
