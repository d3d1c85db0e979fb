"""Which role connects where: the services as the application's role, the migrations as the
schema's owner, and a deployment naming one DSN only runs both as that one."""

from __future__ import annotations

import pytest

from shared.infra.settings import LOCAL_DATABASE_URL, LOCAL_OWNER_URL, Settings

pytestmark = pytest.mark.unit
DEPLOYED = "postgresql://svc:pw@db.internal:5432/automation"


@pytest.fixture(autouse=True)
def no_database_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_OWNER_URL", raising=False)


def test_by_default_the_services_are_the_app_role_and_upgrades_the_owner_of_the_same_database() -> None:
    settings = Settings()
    assert settings.database_url == LOCAL_DATABASE_URL
    assert LOCAL_DATABASE_URL.startswith("postgresql://automation_app:")
    assert settings.migration_database_url == LOCAL_OWNER_URL
    assert LOCAL_OWNER_URL.startswith("postgresql://automation:")
    assert LOCAL_OWNER_URL.split("@")[1] == LOCAL_DATABASE_URL.split("@")[1]


def test_a_deployment_naming_only_database_url_upgrades_as_that_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", DEPLOYED)
    assert Settings().migration_database_url == DEPLOYED


def test_database_owner_url_wins_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    owner = "postgresql://owner:pw@db.internal:5432/automation"
    monkeypatch.setenv("DATABASE_URL", DEPLOYED)
    monkeypatch.setenv("DATABASE_OWNER_URL", owner)
    assert (Settings().database_url, Settings().migration_database_url) == (DEPLOYED, owner)
    monkeypatch.delenv("DATABASE_URL")
    assert Settings().migration_database_url == owner
