import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.settings import BASE_DIR, database_from_url, env_bool, env_list, env_url_path


def test_yes_no_variables_accept_the_usual_words(monkeypatch):
    for word, expected in [("1", True), ("Yes", True), ("on", True), ("0", False), ("false", False)]:
        monkeypatch.setenv("PARLEY_FLAG", word)
        assert env_bool("PARLEY_FLAG", default=not expected) is expected


def test_an_unset_yes_no_variable_takes_its_default(monkeypatch):
    monkeypatch.delenv("PARLEY_FLAG", raising=False)
    assert env_bool("PARLEY_FLAG", default=True) is True


def test_a_yes_no_variable_with_another_word_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("PARLEY_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="PARLEY_FLAG='maybe' is not a yes/no value"):
        env_bool("PARLEY_FLAG", default=False)


def test_lists_are_comma_separated_with_blanks_dropped(monkeypatch):
    monkeypatch.setenv("PARLEY_HOSTS", " parley.example , ,www.parley.example")
    assert env_list("PARLEY_HOSTS", default=[]) == ["parley.example", "www.parley.example"]


@pytest.mark.parametrize("value", ["/admin/", "admin", "desk//", "my admin/"])
def test_a_url_prefix_must_be_relative_and_end_in_a_slash(monkeypatch, value):
    monkeypatch.setenv("PARLEY_PREFIX", value)
    with pytest.raises(ImproperlyConfigured, match="PARLEY_PREFIX"):
        env_url_path("PARLEY_PREFIX", default="admin/")


def test_a_url_prefix_defaults_when_unset(monkeypatch):
    monkeypatch.delenv("PARLEY_PREFIX", raising=False)
    assert env_url_path("PARLEY_PREFIX", default="admin/") == "admin/"


def test_no_database_url_means_a_tuned_sqlite_file_in_the_project_folder():
    database = database_from_url("")
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(BASE_DIR / "db.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert database["OPTIONS"]["timeout"] > 0
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert "mmap_size" in database["OPTIONS"]["init_command"]
    assert database["CONN_MAX_AGE"] is None  # each server thread keeps its connection and page cache


def test_postgresql_uses_djangos_connection_pool_without_persistent_connections():
    database = database_from_url("postgres://parley:secret@db.internal:5432/parley")
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert isinstance(database["OPTIONS"]["pool"], dict)
    assert database["CONN_MAX_AGE"] == 0
    assert database["CONN_HEALTH_CHECKS"] is True  # a connection dead since a restart is replaced, not used
    assert (database["HOST"], database["NAME"], database["USER"]) == ("db.internal", "parley", "parley")


POSTGRESQL = "postgres://parley:secret@db.internal:5432/parley"
DATABASE_WAITS = ("DATABASE_CONNECT_TIMEOUT", "DATABASE_POOL_TIMEOUT", "WEB_THREADS")


def test_an_unreachable_postgresql_fails_a_request_within_two_seconds_by_default(monkeypatch):
    for name in DATABASE_WAITS:
        monkeypatch.delenv(name, raising=False)
    options = database_from_url(POSTGRESQL)["OPTIONS"]
    assert options["connect_timeout"] == 2  # libpq's shortest
    assert options["pool"]["timeout"] < 2  # psycopg's own default is 30 s


def test_the_database_waits_and_the_threads_the_pool_serves_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT", "5")
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT", "0.5")
    monkeypatch.setenv("WEB_THREADS", "12")
    options = database_from_url(POSTGRESQL)["OPTIONS"]
    assert (options["connect_timeout"], options["pool"]["timeout"]) == (5, 0.5)
    assert options["pool"]["max_size"] == 12  # a connection for each thread: none waits for another's


def test_a_pool_for_few_threads_still_keeps_its_minimum_open(monkeypatch):
    monkeypatch.setenv("WEB_THREADS", "1")
    pool = database_from_url(POSTGRESQL)["OPTIONS"]["pool"]
    assert 1 <= pool["min_size"] <= pool["max_size"]


def test_a_connect_timeout_in_the_database_url_wins(monkeypatch):
    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT", "5")
    options = database_from_url(POSTGRESQL + "?connect_timeout=10")["OPTIONS"]
    assert int(options["connect_timeout"]) == 10


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_POOL_TIMEOUT", "0"),
        ("DATABASE_POOL_TIMEOUT", "-1"),
        ("DATABASE_POOL_TIMEOUT", "soon"),
        ("DATABASE_POOL_TIMEOUT", "nan"),
        ("DATABASE_POOL_TIMEOUT", "inf"),
        ("DATABASE_CONNECT_TIMEOUT", "1.5"),
        ("DATABASE_CONNECT_TIMEOUT", "0"),  # libpq would wait for ever
        ("WEB_THREADS", "0"),
    ],
)
def test_a_database_wait_that_is_not_a_positive_time_is_refused_by_name(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=f"{name}='{value}'"):
        database_from_url(POSTGRESQL)


@pytest.mark.parametrize("url", ["mysql://root@localhost/parley", "not a url at all"])
def test_a_database_url_parley_cannot_use_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url(url)


def test_whitenoise_comes_directly_after_the_security_middleware():
    security = settings.MIDDLEWARE.index("django.middleware.security.SecurityMiddleware")
    assert settings.MIDDLEWARE[security + 1] == "whitenoise.middleware.WhiteNoiseMiddleware"


def test_production_serves_compressed_hashed_static_files():
    from config import settings as configured

    backend = configured.STORAGES["staticfiles"]["BACKEND"]
    assert backend == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def start_django(**environment):
    """Start a separate Python that loads the settings with exactly these variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = start_django(DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off" in result.stderr


def test_it_starts_without_a_secret_key_in_debug_mode():
    assert start_django(DJANGO_DEBUG="1").returncode == 0


def test_it_starts_with_debug_off_given_a_secret_key():
    assert start_django(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="k" * 50).returncode == 0


def test_a_bad_setting_stops_start_up_with_a_message_naming_it():
    result = start_django(DJANGO_DEBUG="sometimes")
    assert result.returncode != 0
    assert "DJANGO_DEBUG='sometimes' is not a yes/no value" in result.stderr


def test_manage_py_says_plainly_why_it_cannot_start():
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env={**env, "DJANGO_DEBUG": "0"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        "Parley cannot start: DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off."
    )
    assert "Traceback" not in result.stderr


def test_checking_for_missing_migrations_needs_no_secret_key():
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=BASE_DIR,
        env={**env, "DJANGO_DEBUG": "0"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
