"""`import_dataset`: a package is checked whole, and a bad one changes nothing."""

import io
import shutil
import stat
import zipfile

import pytest
from django.core.management import CommandError, call_command

from sources.models import SourceArticle
from talks.dataset.state import dataset_token
from talks.models import MAX_CLAIM_TEXT, Claim, Disagreement, DisagreementClaim, PublicChange, Round
from tests.builders import make_claim
from tests.packages import (
    ARCHIVE_MODELS,
    archive_state,
    copy_of_seed,
    import_seed,
    read_rows,
    set_cell,
    write_rows,
    write_table,
)

pytestmark = pytest.mark.django_db


def seed_claims(package) -> int:
    return len(read_rows(package / "claims.csv")) - 1  # less the header


def run_import(path, *options):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_dataset", str(path), *options, stdout=out, stderr=err)
    return out.getvalue()


def refusal(path):
    """The problem lines a refused import prints, after checking that it was refused."""
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("import_dataset", str(path), stdout=io.StringIO(), stderr=err)
    return err.getvalue().splitlines()


@pytest.fixture
def package(tmp_path):
    return copy_of_seed(tmp_path)


@pytest.fixture
def existing_archive():
    """Something already in the archive, so tests can check it is left exactly as it was."""
    make_claim(text="Recorded before the import.")
    return archive_state()


def test_a_missing_column_is_refused(package, existing_archive):
    rows = read_rows(package / "claims.csv")
    kind = rows[0].index("kind")
    write_rows(package / "claims.csv", [row[:kind] + row[kind + 1 :] for row in rows])
    assert refusal(package) == ["claims.csv:1: kind: missing column"]
    assert archive_state() == existing_archive


def test_an_unknown_column_is_refused(package, existing_archive):
    rows = read_rows(package / "issues.csv")
    write_rows(package / "issues.csv", [rows[0] + ["colour"]] + [row + ["red"] for row in rows[1:]])
    [problem] = refusal(package)
    assert problem.startswith("issues.csv:1: colour: unknown column; issues has: description, name, parent,")
    assert archive_state() == existing_archive


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("17/02/2026", "'17/02/2026' is not a date: write it as YYYY-MM-DD"),
        ("2026-02-30", "'2026-02-30' is not a date on the calendar"),
    ],
)
def test_a_bad_date_is_refused(package, existing_archive, value, message):
    set_cell(package / "rounds.csv", 4, "start_date", value)
    assert refusal(package) == [f"rounds.csv:4: start_date: {message}"]
    assert archive_state() == existing_archive


def test_an_unknown_choice_is_refused(package, existing_archive):
    set_cell(package / "claims.csv", 7, "kind", "rumour")
    assert refusal(package) == [
        "claims.csv:7: kind: 'rumour' is not one of the allowed values: "
        "statement, demand, proposal, event, figure, outcome, context"
    ]
    assert archive_state() == existing_archive


def test_a_reference_to_a_missing_record_is_refused(package, existing_archive):
    set_cell(package / "citations.csv", 3, "article", "no-such-article")
    assert refusal(package) == [
        "citations.csv:3: article: refers to 'no-such-article', "
        "which is neither in articles.csv nor in the archive"
    ]
    assert archive_state() == existing_archive


def test_a_seat_in_a_delegation_that_does_not_exist_is_refused(package, existing_archive):
    set_cell(package / "memberships.csv", 2, "party", "italy")
    [problem] = refusal(package)
    assert problem.startswith("memberships.csv:2: round, party: refers to ")
    assert problem.endswith(", italy', which is neither in delegations.csv nor in the archive")
    assert archive_state() == existing_archive


def test_a_duplicate_key_is_refused(package, existing_archive):
    rows = read_rows(package / "participants.csv")
    write_rows(package / "participants.csv", rows + [rows[2]])
    assert refusal(package) == [
        f"participants.csv:{len(rows) + 1}: slug: duplicate key '{rows[2][0]}': first on line 3"
    ]
    assert archive_state() == existing_archive


def test_a_file_that_is_not_utf8_is_refused_at_the_line_of_the_bad_byte(package, existing_archive):
    rows = read_rows(package / "issues.csv")
    rows[2][1] = "Sécurité"
    text = "\r\n".join(",".join(f'"{cell}"' for cell in row) for row in rows) + "\r\n"
    (package / "issues.csv").write_bytes(text.encode("latin-1"))
    assert refusal(package) == [
        "issues.csv:3: (file): not UTF-8 text (byte 0xE9 cannot be read); save the file as UTF-8"
    ]
    assert archive_state() == existing_archive


def test_an_empty_file_is_refused(package, existing_archive):
    (package / "tracks.csv").write_bytes(b"")
    assert refusal(package) == ["tracks.csv:1: (file): the file is empty: it needs at least a header row"]
    assert archive_state() == existing_archive


def test_a_file_that_is_no_parley_table_is_refused(package, existing_archive):
    (package / "colours.csv").write_text("name\nred\n")
    [problem] = refusal(package)
    assert problem.startswith("colours.csv:1: (file): not a Parley table; the tables are: outlets.csv,")
    assert archive_state() == existing_archive


def test_a_row_the_models_refuse_is_reported_at_its_line_and_nothing_is_kept(package, existing_archive):
    set_cell(package / "rounds.csv", 4, "end_date", "2020-01-01")
    set_cell(package / "rounds.csv", 4, "start_date", "2026-02-17")
    assert refusal(package) == [
        "rounds.csv:4: end_date: The end date is before the start date: a round cannot end before it starts."
    ]
    assert archive_state() == existing_archive


def test_every_problem_in_a_package_is_reported_at_once(package):
    set_cell(package / "claims.csv", 3, "kind", "rumour")
    set_cell(package / "rounds.csv", 2, "sequence", "first")
    (package / "tracks.csv").write_bytes(b"")
    assert refusal(package) == [
        "claims.csv:3: kind: 'rumour' is not one of the allowed values: "
        "statement, demand, proposal, event, figure, outcome, context",
        "rounds.csv:2: sequence: 'first' is not a whole number",
        "tracks.csv:1: (file): the file is empty: it needs at least a header row",
    ]


def test_a_dry_run_reports_what_it_would_do_and_changes_nothing(package, existing_archive):
    output = run_import(package, "--dry-run")
    assert "dry run: nothing changed" in output
    assert f"claims: {seed_claims(package)} new, 0 updated, 0 unchanged" in output
    assert archive_state() == existing_archive


def test_importing_again_updates_records_instead_of_duplicating_them(package):
    import_seed()
    claims = Claim.objects.count()
    line = next(
        i for i, row in enumerate(read_rows(package / "claims.csv"), 1) if row[0] == "zelensky-not-easy"
    )
    set_cell(package / "claims.csv", line, "text", "Zelensky said the negotiations were not easy.")
    output = run_import(package)
    assert f"claims: 0 new, 1 updated, {seed_claims(package) - 1} unchanged" in output
    assert Claim.objects.count() == claims
    assert Claim.objects.get(key="zelensky-not-easy").text == "Zelensky said the negotiations were not easy."


def test_records_the_package_does_not_mention_are_kept(package):
    mine = make_claim(text="An editor's draft, not in any package.")
    import_seed()
    run_import(package)
    assert Claim.objects.filter(pk=mine.pk).exists()


def test_a_package_of_some_tables_may_refer_to_records_already_in_the_archive(tmp_path):
    import_seed()
    folder = tmp_path / "claims-only"
    folder.mkdir()
    write_rows(
        folder / "claims.csv",
        [
            [
                *("key", "text", "round", "party", "speaker", "kind", "sourcing", "attribution"),
                *("occurrence", "date", "date_precision", "date_note", "checked_on", "publication_status"),
            ],
            [
                *("new-claim", "A new claim.", "geneva-2026-february", "russia", "", "statement"),
                *("reported", "", "", "", "", "", "", "draft"),
            ],
        ],
    )
    run_import(folder)
    assert Claim.objects.get(key="new-claim").round == Round.objects.get(slug="geneva-2026-february")


def test_a_zipped_package_imports_like_its_folder(package, tmp_path):
    archive = shutil.make_archive(
        str(tmp_path / "seed"), "zip", root_dir=package.parent, base_dir=package.name
    )
    assert f"claims: {seed_claims(package)} new" in run_import(archive)


def test_the_seed_is_loaded_only_into_an_empty_archive(package):
    make_claim()
    assert "already holds records; nothing imported" in run_import(package, "--if-empty")
    assert Claim.objects.count() == 1


def test_a_file_that_is_not_a_package_is_refused_with_a_message(tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"this is not a zip archive")
    with pytest.raises(CommandError, match="broken.zip: File is not a zip file"):
        call_command("import_dataset", str(broken), stdout=io.StringIO())
    with pytest.raises(CommandError, match="no such folder or file"):
        call_command("import_dataset", str(tmp_path / "missing"), stdout=io.StringIO())


def test_a_long_article_text_imports_whole(package, tmp_path):
    rows = read_rows(package / "articles.csv")
    folder = tmp_path / "one-article"
    folder.mkdir()
    long_body = "The talks were difficult. " * 20_000
    new_article = dict.fromkeys(rows[0], "") | {
        "key": "long-article",
        "language": "en",
        "publication_status": "draft",
        "body": long_body,
    }
    write_rows(folder / "articles.csv", [rows[0], [new_article[name] for name in rows[0]]])
    run_import(folder)
    assert SourceArticle.objects.get(key="long-article").body == long_body.strip()


def test_a_nul_character_is_refused_with_its_place_and_nothing_changes(package, existing_archive):
    set_cell(package / "claims.csv", 3, "text", "A claim with a \x00 in it.")
    assert refusal(package) == [
        "claims.csv:3: text: contains a NUL character (\\x00), which the archive cannot store"
    ]
    assert archive_state() == existing_archive


def test_a_cell_longer_than_its_column_may_hold_is_refused_at_its_line_and_column(package, existing_archive):
    set_cell(package / "claims.csv", 3, "text", "x" * (MAX_CLAIM_TEXT + 1))
    assert refusal(package) == [
        f"claims.csv:3: text: longer than the {MAX_CLAIM_TEXT:,} characters this column may hold"
    ]
    assert archive_state() == existing_archive


def test_a_cell_of_megabytes_over_many_lines_is_refused_at_the_line_its_row_starts(package, existing_archive):
    set_cell(package / "claims.csv", 3, "notes", "An editor's remark.\n" * 250_000)
    assert refusal(package) == ["claims.csv:3: notes: longer than the 10,000 characters this column may hold"]
    assert archive_state() == existing_archive


def test_a_symbolic_link_in_a_package_folder_is_refused_and_not_followed(package, tmp_path, existing_archive):
    system_file = tmp_path / "passwd"
    system_file.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (package / "claims.csv").unlink()
    (package / "claims.csv").symlink_to(system_file)
    assert refusal(package) == [
        "claims.csv:1: (file): a symbolic link, not read: put the file itself in the package"
    ]
    assert archive_state() == existing_archive


def zip_of(path, members: dict[str, bytes], links: dict[str, str] | None = None):
    """A zip of these members, and of symbolic links to these targets."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            link = zipfile.ZipInfo(name)
            link.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(link, target)
    return path


@pytest.mark.parametrize("name", ["../claims.csv", "/claims.csv", "parley/../../claims.csv"])
def test_a_zip_member_named_outside_the_package_is_refused(tmp_path, existing_archive, name):
    draft = {"key": "new", "text": "A draft.", "kind": "statement", "sourcing": "reported"}
    claims = write_table(tmp_path / "folder", "claims", [draft | {"publication_status": "draft"}])
    package = zip_of(tmp_path / "package.zip", {name: (claims / "claims.csv").read_bytes()})
    assert refusal(package) == [
        f"{name}:1: (file): named outside the package (an absolute path or ..): not read"
    ]
    assert archive_state() == existing_archive


def test_a_symbolic_link_in_a_zip_is_refused_and_not_followed(tmp_path, existing_archive):
    package = zip_of(tmp_path / "package.zip", {}, links={"claims.csv": "/etc/passwd"})
    assert refusal(package) == [
        "claims.csv:1: (file): a symbolic link, not read: put the file itself in the package"
    ]
    assert archive_state() == existing_archive


def history_rows() -> int:
    return sum(model.history.count() for model in [*ARCHIVE_MODELS, Disagreement, DisagreementClaim])


def test_importing_what_the_archive_holds_changes_nothing_not_even_the_dataset_token(package):
    import_seed()
    before = (dataset_token(), history_rows(), PublicChange.objects.count())
    assert before[0] is not None
    output = run_import(package)
    assert f"claims: 0 new, 0 updated, {seed_claims(package)} unchanged" in output
    assert (dataset_token(), history_rows(), PublicChange.objects.count()) == before
