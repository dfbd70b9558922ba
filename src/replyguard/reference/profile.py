"""The target profile (TOML) describing a running reference server's seeded fixtures.

Written by hand (the reference server never imports harness code) and atomically: a temporary
file in the same folder, then a rename, so a reader polling for the file never sees half of it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .config import ServerConfig
from .registry import behaviour_for
from .seed import ASSISTANTS, CATALOGUE_KINDS, PHONE_NUMBERS, SeedPhone

__all__ = ["render_profile", "write_profile"]


def _toml_str(text: str) -> str:
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _ids(kind: str, owner: int | None = None, *, owned: bool = False) -> str:
    rows = CATALOGUE_KINDS[kind]
    ids = [i for i, acct, _ in rows if (acct == owner if owned else acct is None)]
    return "[" + ", ".join(str(i) for i in ids) + "]"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _voice(voice_id: int, data: dict[str, object]) -> str:
    modes = data["modes"]
    assert isinstance(modes, list)
    return f"{{ id = {voice_id}, modes = [{', '.join(_toml_str(m) for m in modes)}] }}"


def _phone(phone: SeedPhone) -> str:
    """A seeded phone number as the profile describes it (at seeding time)."""
    assigned = any(kind == "inbound" and num == phone.id for _, _, _, kind, _, num in ASSISTANTS)
    return (
        f"{{ id = {phone.id}, caller_id = {_bool(phone.caller_id)},"
        f" assigned_inbound = {_bool(assigned)} }}"
    )


def render_profile(base_url: str, tokens: dict[str, list[str]], config: ServerConfig) -> str:
    """Return the profile TOML for a server at ``base_url`` with the given seeded tokens."""
    voices = ", ".join(_voice(vid, data) for vid, _, data in CATALOGUE_KINDS["voice"])
    phones = ", ".join(_phone(p) for p in PHONE_NUMBERS if p.account_id == 1)
    foreign_phones = ", ".join(str(p.id) for p in PHONE_NUMBERS if p.account_id == 2)
    lines = [
        "# written by replyguard serve: the reference server's seeded fixtures",
        f"base_url = {_toml_str(base_url)}",
        f"brand = {_toml_str(behaviour_for(config.fault, config.variant).brand)}",
        "",
        "[tokens]",
        f"primary = {_toml_str(tokens['alpha'][0])}",
        f"secondary = {_toml_str(tokens['alpha'][1])}",
        f"low_balance = {_toml_str(tokens['broke'][0])}",
        f"other_account = {_toml_str(tokens['beta'][0])}",
        *(
            [f"pool = [{', '.join(_toml_str(t) for t in tokens['alpha'][2 : 2 + config.pool])}]"]
            if config.pool
            else []
        ),
        "",
        "[assistants]",
        "own = 101",
        "own_second = 102",
        "foreign = 201",
        "low_balance = 301",
        "",
        "[catalog]",
        f"languages = {_ids('language')}",
        f"voices = [{voices}]",
        f"llm_models = {_ids('llm_model')}",
        f"multimodal_models = {_ids('multimodal_model')}",
        f"knowledgebases = {_ids('knowledgebase', 1, owned=True)}",
        f"tools = {_ids('tool', 1, owned=True)}",
        f"phone_numbers = [{phones}]",
        f"synthesizer_providers = {_ids('synthesizer_provider')}",
        f"transcriber_providers = {_ids('transcriber_provider')}",
        f"foreign_knowledgebases = {_ids('knowledgebase', 2, owned=True)}",
        f"foreign_tools = {_ids('tool', 2, owned=True)}",
        f"foreign_phone_numbers = [{foreign_phones}]",
        "",
        "[rate_limit]",
        f"limit = {config.limit}",
        f"window_seconds = {config.window}",
        "",
        "[capabilities]",
        "reply_shows_variables = true",
        "",
        "[safety]",
        "allow_writes = true",
        "exhaustive = true",
        "max_requests = 0",
        "",
    ]
    return "\n".join(lines)


def write_profile(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".profile-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
