"""JSON Schema validation is done once per document: a pass is remembered by the
toolkit version, the schema and the document, so a report kernel that reads a
document the preparation already checked does not import jsonschema; problems are
listed every time."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys

from lscb_nb.core import jsonschemas

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "n": {"type": "integer"}},
    "required": ["name"],
}


def test_problems_are_listed_every_time_and_a_pass_is_remembered(tmp_path, monkeypatch):
    monkeypatch.setenv(jsonschemas.CACHE_ENV, str(tmp_path))
    bad = {"n": "three"}
    for _ in range(2):
        found = jsonschemas.errors(SCHEMA, bad)
        assert sorted(e.validator for e in found) == ["required", "type"]
    assert not list(tmp_path.rglob("*"))  # nothing remembered for a failing document
    assert jsonschemas.errors(SCHEMA, {"name": "North West", "n": 3}) == []
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_the_digest_tells_apart_what_jsonschema_would():
    doc = {"name": "x", "when": datetime.date(2025, 4, 1)}
    text = {"name": "x", "when": "2025-04-01"}
    assert jsonschemas.digest(SCHEMA, doc, False) != jsonschemas.digest(SCHEMA, text, False)
    other = {**SCHEMA, "required": []}
    assert jsonschemas.digest(SCHEMA, text, False) != jsonschemas.digest(other, text, False)
    assert jsonschemas.digest(SCHEMA, text, False) != jsonschemas.digest(SCHEMA, text, True)


def test_a_second_process_knows_a_valid_document_without_importing_jsonschema(tmp_path):
    code = (
        "import json, sys\n"
        "from lscb_nb.core import jsonschemas\n"
        f"found = jsonschemas.errors({json.dumps(SCHEMA)}, {{'name': 'x'}})\n"
        "print(json.dumps([len(found), 'jsonschema' in sys.modules]))\n"
    )
    env = {**os.environ, jsonschemas.CACHE_ENV: str(tmp_path)}
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(2)
    ]
    assert runs == [[0, True], [0, False]]
