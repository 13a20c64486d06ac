"""The project's risks and issues log: a CSV in the project (``risks:`` in
``project.yaml``, default ``risks.csv``) that the consultant keeps and the toolkit adds
to, as the terms of reference ask ("a risk and issues log will be used to track these").

One row per risk or issue, with the columns of :data:`COLUMNS` (documented in the
README). The consultant's rows (``source`` consultant, or blank) are never changed:
when the toolkit writes the log it copies their text byte for byte and rewrites only
its own rows (``source: toolkit``), keyed by ``id`` so a re-run updates the entry it
made before instead of adding another. A toolkit entry that no longer holds is closed,
never deleted; a consultant who takes a toolkit entry over sets its ``source`` to
consultant, and the toolkit leaves it alone from then on. Bad rows are reported all at
once, each naming the file, row, column and reason.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path

from lscb_nb.core.fileio import write_atomic

log = logging.getLogger(__name__)

DEFAULT_FILE = "risks.csv"
# The log's columns, in order (scripts outside the toolkit read them by name).
COLUMNS = (
    "id",
    "type",
    "description",
    "likelihood",
    "impact",
    "owner",
    "mitigation",
    "status",
    "raised",
    "updated",
    "source",
)
# What each coded column allows (blank allowed where marked None).
ALLOWED: dict[str, tuple[str | None, ...]] = {
    "type": ("risk", "issue"),
    "likelihood": ("low", "medium", "high", None),  # an issue has happened: may be blank
    "impact": ("low", "medium", "high"),
    "status": ("open", "monitoring", "closed"),
    "source": ("consultant", "toolkit", None),  # blank: the consultant's
}
REQUIRED = ("id", "type", "description", "impact", "status", "raised")
_RANK = {"low": 1, "medium": 2, "high": 3}
TOOLKIT = "toolkit"


class RiskLogError(ValueError):
    """The log cannot be read: every bad row, with where and why."""


@dataclass(frozen=True)
class Entry:
    """One risk or issue."""

    id: str
    type: str
    description: str
    impact: str
    status: str = "open"
    likelihood: str = ""
    owner: str = ""
    mitigation: str = ""
    raised: str = ""
    updated: str = ""
    source: str = "consultant"

    @property
    def by_toolkit(self) -> bool:
        return self.source == TOOLKIT

    @property
    def is_open(self) -> bool:
        return self.status != "closed"

    @property
    def score(self) -> int:
        """Likelihood times impact, 1 to 9 (an issue has happened: likelihood high)."""
        likelihood = "high" if self.type == "issue" else (self.likelihood or "medium")
        return _RANK[likelihood] * _RANK[self.impact]

    @property
    def severity(self) -> str:
        """high (6-9), medium (3-4) or low (1-2), from :attr:`score`."""
        return "high" if self.score >= 6 else "medium" if self.score >= 3 else "low"

    def row(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class RiskLog:
    """The log as read: its entries and each row's text exactly as it is in the file."""

    path: Path
    entries: tuple[Entry, ...]
    raw: tuple[str, ...]  # each entry's CSV text, line ending included
    header: str

    def open_entries(self) -> list[Entry]:
        """Open entries, most severe first (then the newest raised first)."""
        found = [e for e in self.entries if e.is_open]
        return sorted(found, key=lambda e: (-e.score, _neg_date(e.raised), e.id))


def _neg_date(text: str) -> int:
    try:
        return -date.fromisoformat(text).toordinal()
    except ValueError:
        return 0


def log_path(root: Path, settings: dict) -> Path:
    """Where the project keeps its log (``risks:`` relative to project.yaml)."""
    path = Path(str(settings.get("risks") or DEFAULT_FILE))
    return path if path.is_absolute() else Path(root) / path


def _records(text: str) -> Iterator[tuple[list[str], str]]:
    """Each CSV record with the exact text it was read from (a quoted field may run
    over several lines, so a record is not always one line)."""
    lines = text.splitlines(keepends=True)
    consumed: list[str] = []

    def feed() -> Iterator[str]:
        for line in lines:
            consumed.append(line)
            yield line

    for record in csv.reader(feed()):
        yield record, "".join(consumed)
        consumed.clear()


def _check(row: dict[str, str], where: str) -> list[str]:
    problems = []
    for column in REQUIRED:
        if not row.get(column, "").strip():
            problems.append(f"{where}, column {column}: empty; it is required.")
    for column, allowed in ALLOWED.items():
        value = row.get(column, "").strip()
        if value and value not in allowed:
            shown = ", ".join(a for a in allowed if a)
            problems.append(f"{where}, column {column}: {value!r} is not one of {shown}.")
    for column in ("raised", "updated"):
        value = row.get(column, "").strip()
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                problems.append(f"{where}, column {column}: {value!r} is not a date (2026-09-04).")
    return problems


def read_log(path: Path) -> RiskLog:
    """The log at ``path`` (an empty log when the file does not exist yet)."""
    path = Path(path)
    if not path.exists():
        return RiskLog(path, (), (), "")
    text = path.read_bytes().decode("utf-8-sig")
    records = list(_records(text))
    if not records:
        return RiskLog(path, (), (), "")
    (columns, header), body = records[0], records[1:]
    columns = [c.strip() for c in columns]
    problems = []
    missing = [c for c in COLUMNS if c not in columns]
    if missing:
        raise RiskLogError(
            f"{path}: the header lacks the column(s) {', '.join(missing)}; "
            f"the log's columns are {', '.join(COLUMNS)}."
        )
    entries, raw, seen = [], [], {}
    for number, (values, text_of) in enumerate(body, 2):
        if not any(v.strip() for v in values):
            continue
        where = f"{path}, row {number}"
        if len(values) > len(columns):
            problems.append(f"{where}: {len(values)} fields but {len(columns)} columns.")
            continue
        row = {c: v.strip() for c, v in zip(columns, values, strict=False)}
        problems += _check(row, where)
        if row.get("id") in seen:
            problems.append(f"{where}, column id: {row['id']!r} is also row {seen[row['id']]}.")
        seen[row.get("id", "")] = number
        if problems:
            continue
        fields = {k: row.get(k, "") for k in COLUMNS}
        fields["source"] = fields["source"] or "consultant"
        entries.append(Entry(**fields))
        raw.append(text_of if text_of.endswith(("\n", "\r")) else text_of + "\n")
    if problems:
        raise RiskLogError("The risks and issues log is not valid:\n  - " + "\n  - ".join(problems))
    return RiskLog(path, tuple(entries), tuple(raw), header)


def _csv_line(values: Sequence[str], ending: str = "\n") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=ending).writerow(values)
    return buffer.getvalue()


def merge(current: RiskLog, found: Iterable[Entry], as_of: date) -> tuple[str, list[Entry]]:
    """The log's new text, and its entries, with the toolkit's findings of ``as_of``.

    The consultant's rows are copied as they are, in their places. A toolkit entry
    found again keeps its raised date (and its ``updated`` date when nothing in it
    changed); one found for the first time is added at the end; one no longer found is
    closed. An id the consultant owns is never written by the toolkit."""
    today = as_of.isoformat()
    found_by_id = {e.id: e for e in found}
    header = current.header or _csv_line(COLUMNS)
    columns = next(csv.reader([header]))
    ending = "\r\n" if header.endswith("\r\n") else "\n"  # the consultant's line endings
    lines, entries = [header], []
    for old, text in zip(current.entries, current.raw, strict=True):
        if not old.by_toolkit:
            lines.append(text)
            entries.append(old)
            found_by_id.pop(old.id, None)
            continue
        new = found_by_id.pop(old.id, None)
        if new is None:
            new = old if old.status == "closed" else replace(old, status="closed", updated=today)
        else:
            new = replace(
                new,
                raised=old.raised,
                source=TOOLKIT,
                owner=new.owner or old.owner,
                mitigation=new.mitigation or old.mitigation,
            )
            same = replace(new, updated=old.updated) == old
            new = replace(new, updated=old.updated if same else today)
        entries.append(new)
        lines.append(_csv_line([new.row().get(c.strip(), "") for c in columns], ending))
    for new in found_by_id.values():
        new = replace(new, raised=today, updated=today, source=TOOLKIT)
        entries.append(new)
        lines.append(_csv_line([new.row().get(c.strip(), "") for c in columns], ending))
    if not lines[0].endswith(("\n", "\r")):
        lines[0] += ending
    return "".join(lines), entries


def write_log(path: Path, text: str) -> None:
    """Write the log atomically, as bytes (so the consultant's rows keep their line
    endings and quoting exactly)."""
    write_atomic(path, lambda p: p.write_bytes(text.encode("utf-8")))


def update_log(path: Path, found: Iterable[Entry], as_of: date) -> RiskLog:
    """Merge the toolkit's findings into the log at ``path``, write it, and return it."""
    found = list(found)
    current = read_log(path)
    if not found and not Path(path).exists():
        return current
    text, _ = merge(current, found, as_of)
    write_log(path, text)
    return read_log(path)
