import pytest


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """The manifest storage needs `collectstatic`; tests render templates without running it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def downloads_in_a_temporary_folder(settings, tmp_path):
    settings.DOWNLOADS_DIR = tmp_path / "downloads"


@pytest.fixture
def seeded(db):
    """The seed archive, imported for one test."""
    from tests.packages import import_seed

    import_seed()


@pytest.fixture(scope="module")
def seeded_module(django_db_setup, django_db_blocker):
    """The seed archive, imported once for a whole module of tests that only read it."""
    from tests.packages import empty_the_archive, import_seed

    with django_db_blocker.unblock():
        import_seed()
    yield
    with django_db_blocker.unblock():
        empty_the_archive()
