"""Two editors saving one record at the same moment, in two real transactions: one save wins, the
other is refused, and nothing is silently overwritten."""

import threading

import pytest
from django.db import connection, transaction

from sources.editing import ArchiveForm, current_version
from talks.models import Party
from tests.builders import make_party

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # SQLite takes one writer at a time (IMMEDIATE transactions), and its in-memory test database,
    # shared between threads, refuses a second writer ("table is locked") instead of waiting.
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers are PostgreSQL's"),
]


class PartyForm(ArchiveForm):
    class Meta:
        model = Party
        fields = ["name", "slug", "kind"]


def test_two_editors_saving_at_once_never_both_succeed():
    party = make_party(name="Original name", slug="original")
    opened = current_version(Party, party.pk)  # both editors opened the same version
    first_checked, first_saved = threading.Event(), threading.Event()
    outcome = {}

    def edit(who, name, before_save=None, before_check=None):
        try:
            if before_check:
                before_check.wait(10)
            with transaction.atomic():
                form = PartyForm(
                    {"name": name, "slug": "original", "kind": "state", "loaded_version": opened},
                    instance=Party.objects.get(pk=party.pk),
                )
                valid = form.is_valid()
                if before_save:
                    before_save.set()  # the second editor now checks while this save is pending
                    first_saved.wait(0.5)  # still inside the transaction: the other waits or passes
                if valid:
                    form.save()
                outcome[who] = (valid, form.non_field_errors())
        finally:
            connection.close()

    first = threading.Thread(
        target=edit, args=("first", "First editor's name"), kwargs={"before_save": first_checked}
    )
    second = threading.Thread(
        target=edit, args=("second", "Second editor's name"), kwargs={"before_check": first_checked}
    )
    first.start()
    second.start()
    first.join(30)
    second.join(30)

    assert outcome["first"][0] is True
    assert outcome["second"][0] is False
    assert "Someone else saved this record after you opened it" in " ".join(outcome["second"][1])
    party.refresh_from_db()
    assert party.name == "First editor's name"
