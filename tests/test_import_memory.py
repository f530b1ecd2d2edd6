"""An import reads a package a row at a time: a cell past its column's limit is refused at its line and
column as soon as its row outgrows the table, without the file in memory."""

import csv
import io
import tracemalloc

import pytest
from django.core.management import CommandError, call_command

from talks.dataset.tables import CLAIMS
from talks.models import MAX_CLAIM_TEXT, Claim

pytestmark = pytest.mark.django_db

ROWS_BEFORE = 1000
SENTENCE = "The delegations met again in the hotel's conference rooms. "


def claims_with_a_giant_text(folder, megabytes: int):
    """claims.csv: a thousand ordinary drafts, then one whose text runs to `megabytes` on one line."""
    folder.mkdir()
    header = [column.name for column in CLAIMS.public_columns()]
    draft = dict.fromkeys(header, "") | {
        "kind": "statement",
        "sourcing": "reported",
        "publication_status": "draft",
    }
    with open(folder / "claims.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\r\n")
        writer.writerow(header)
        for number in range(ROWS_BEFORE):
            writer.writerow(
                [(draft | {"key": f"claim-{number}", "text": f"Claim {number}."})[name] for name in header]
            )
        cells = [(draft | {"key": "giant"})[name] for name in header]
        text = header.index("text")
        file.write(",".join(cells[:text]) + ",")
        for _ in range(megabytes * 1024 * 1024 // len(SENTENCE)):
            file.write(SENTENCE)
        file.write("," + ",".join(cells[text + 1 :]) + "\r\n")
    return folder


def refusal_and_peak_memory(folder) -> tuple[list[str], int]:
    err = io.StringIO()
    tracemalloc.start()
    try:
        with pytest.raises(CommandError, match="nothing was changed"):
            call_command("import_dataset", str(folder), stdout=io.StringIO(), stderr=err)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return err.getvalue().splitlines(), peak


def test_a_cell_ten_times_larger_is_refused_in_about_the_same_memory(tmp_path):
    small_problems, small_peak = refusal_and_peak_memory(claims_with_a_giant_text(tmp_path / "small", 3))
    large_problems, large_peak = refusal_and_peak_memory(claims_with_a_giant_text(tmp_path / "large", 30))
    line = ROWS_BEFORE + 2  # after the header and the ordinary rows
    expected = [
        f"claims.csv:{line}: text: longer than the {MAX_CLAIM_TEXT:,} characters this column may hold"
    ]
    assert small_problems == large_problems == expected
    assert large_peak < 2 * small_peak, (small_peak, large_peak)
    assert large_peak < 10 * 1024 * 1024
    assert not Claim.objects.exists()
