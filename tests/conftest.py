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
    settings.RELEASES_DIR = tmp_path / "releases"


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


def member_of(group_name, username, django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(
        username, password="a long unguessable password", is_staff=True
    )
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def roles(db):
    import io

    from django.core.management import call_command

    call_command("setup_roles", stdout=io.StringIO())


@pytest.fixture
def editor(roles, django_user_model):
    """An editor: writes and corrects drafts, cannot publish, withdraw or delete."""
    return member_of("Editors", "edith", django_user_model)


@pytest.fixture
def chief(roles, django_user_model):
    """A chief editor: also publishes, withdraws and deletes."""
    return member_of("Chief editors", "charles", django_user_model)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def chief_client(editor, chief):
    from django.test import Client

    chief_client = Client()
    chief_client.force_login(chief)
    return chief_client


@pytest.fixture
def unthrottled_api(settings):
    """The API without its per-client limit: the tests' requests all come from one address."""
    settings.API_THROTTLE_RATE = None
