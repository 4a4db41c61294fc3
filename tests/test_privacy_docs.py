"""The data inventory and retention table in docs/privacy match the models and the page."""
from __future__ import annotations

import re
from pathlib import Path

from matching.store import Base
from web.privacy import RETENTION

DOCS = Path(__file__).resolve().parents[1] / "docs" / "privacy"
PERSONAL = {"yes", "no", "special (art. 9)"}
HEADING = re.compile(r"^### `(\w+)`$")
ROW = re.compile(r"^\| `(\w+)` \|(.*)\|$")


def inventory() -> dict[tuple[str, str], list[str]]:
    """(table, column) -> [holds, personal, basis, retention, who] from the Markdown tables."""
    rows: dict[tuple[str, str], list[str]] = {}
    table = None
    for line in (DOCS / "data-inventory.md").read_text().splitlines():
        if heading := HEADING.match(line):
            table = heading.group(1)
        elif (row := ROW.match(line)) and table is not None:
            key = (table, row.group(1))
            assert key not in rows, f"{key} documented twice"
            rows[key] = [cell.strip() for cell in row.group(2).split("|")]
    return rows


def model_columns() -> set[tuple[str, str]]:
    return {(t.name, c.name) for t in Base.metadata.tables.values() for c in t.columns}


def test_every_column_of_every_model_is_documented():
    missing = model_columns() - set(inventory())
    assert not missing, f"add these to docs/privacy/data-inventory.md: {sorted(missing)}"


def test_the_inventory_has_no_stale_entries():
    stale = set(inventory()) - model_columns()
    assert not stale, f"remove these from docs/privacy/data-inventory.md: {sorted(stale)}"


def test_every_entry_is_complete_and_classified():
    for key, cells in inventory().items():
        assert len(cells) == 5 and all(cells), f"{key}: five non-empty cells needed"
        holds, personal, basis, retention, who = cells
        assert personal in PERSONAL, f"{key}: personal data is one of {PERSONAL}"
        if personal == "no":
            continue
        assert re.match(r"[69]\.\d\.[a-f] ", basis), f"{key}: a GDPR article for personal data"


def test_health_data_is_special_category_with_explicit_consent_and_no_analyst():
    special = {key for key, cells in inventory().items() if cells[1] == "special (art. 9)"}
    assert special == {("resident", "health_note")}
    _holds, _personal, basis, retention, who = inventory()[("resident", "health_note")]
    assert basis.startswith("9.2.a explicit consent")
    assert "withdrawn" in retention
    assert "analyst" not in who.replace("never the analyst", "")


def test_contact_data_is_personal_everywhere():
    for (table, column), cells in inventory().items():
        if column in {"first_name", "last_name", "email", "phone", "to_address", "health_note"}:
            assert cells[1] != "no", (table, column)


def test_retention_document_and_page_have_the_same_rows():
    lines = (DOCS / "retention.md").read_text().splitlines()
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| what ")]
    assert len(rows) == len(RETENTION)
    assert "RETENTION_MONTHS" in "\n".join(lines) and "**24**" in "\n".join(lines)
