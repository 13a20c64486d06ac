"""The toolkit's hostile return files (tests/hostile_cases.py) uploaded through the
API as Camden's children's social care: none gives a server error; a file the
reader cannot read is refused and nothing of it is stored; a stored one loses no
row and names its issues; the upload's own name never reaches the disk."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hostile_cases import CASES  # tests/ is on the path: tests/conftest.py lives there

from lscb_nb.service.collection.models import Cell, Submission
from lscb_nb.service.collection.windows import open_window
from service.conftest import bearer, upload

# Cases whose entry is a folder or a link to one: an HTTP upload is always one file.
FOLDER_ENTRIES = {"symlink-to-folder", "sub-folder", "folder-named-csv"}


def _one_per_outcome() -> list:
    """One case per (outcome, rule codes, file format): the reader itself meets every
    case in tests/test_hostile.py; here each kind goes through the service once."""
    seen, out = set(), []
    for c in CASES:
        if c.id in FOLDER_ENTRIES:
            continue
        key = (c.expect.status, frozenset(c.expect.codes), c.entry.rsplit(".", 1)[-1])
        if c.reader == "returns" and key not in seen:
            seen.add(key)
            out.append(c)
    return out


RETURN_CASES = _one_per_outcome()


@pytest.fixture
def old_window(db):
    today = date.today()
    return open_window(
        "2024-25 Q1",
        opens=today - timedelta(days=1),
        deadline=today + timedelta(days=1),
        closes=today + timedelta(days=2),
    )


@pytest.mark.parametrize("case", RETURN_CASES, ids=lambda c: c.id)
def test_hostile_file_through_the_api(
    case, client, accounts, old_window, tmp_path, tiny_items, settings
):
    settings.SERVICE_READ_LIMITS = case.limits  # the case's own limits, else the toolkit's
    folder = tmp_path / "in"
    folder.mkdir()
    case.build(folder, {"items": tiny_items})
    entry = folder / case.entry
    assert entry.is_file(), f"{case.id} is a folder entry: add it to FOLDER_ENTRIES"
    _, token = accounts["csc"]
    response = upload(client, token, entry.read_bytes(), name=case.entry, period="2024-25 Q1")
    assert response.status_code < 500, response.content[:300]
    body = response.json()
    if response.status_code != 201:
        assert body["error"], "a refusal says why"
        assert Submission.objects.count() == 0 and Cell.objects.count() == 0
        if case.expect.status in ("unreadable", "not a return"):
            assert response.status_code in (413, 415, 422)
        return
    assert case.expect.status not in ("unreadable",), "an unreadable file was stored"
    sub = Submission.objects.get(pk=body["id"])
    assert sub.rows_accepted + sub.rows_quarantined == sub.rows_read, "a row was lost"
    assert sub.cells.count() == sub.rows_read
    assert all(i["message"] for i in body["issues"])
    csv_text = client.get(f"/api/v1/submissions/{sub.pk}/issues.csv", **bearer(token)).content
    for line in csv_text.decode("utf-8").splitlines()[1:]:
        assert not line.startswith(("=", "+", "-", "@"))
