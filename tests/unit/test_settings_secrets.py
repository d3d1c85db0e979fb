"""Secrets in settings: never printed, and never weak where others can reach the API."""

from __future__ import annotations

import pytest

from shared.infra.settings import PLACEHOLDER_ADMIN_TOKEN, Settings

pytestmark = pytest.mark.unit
STRONG = "s" * 32


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "api.internal"])
@pytest.mark.parametrize("token", [PLACEHOLDER_ADMIN_TOKEN, "short-but-not-the-default"])
def test_a_weak_admin_token_is_refused_beyond_loopback(host: str, token: str) -> None:
    with pytest.raises(RuntimeError, match="AUTOMATION_ADMIN_TOKEN"):
        Settings(api_host=host, automation_admin_token=token).check_production()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "localhost"])
def test_loopback_development_may_use_the_default_token(host: str) -> None:
    Settings(api_host=host).check_production()


def test_production_refuses_the_default_even_on_loopback() -> None:
    with pytest.raises(RuntimeError):
        Settings(automation_env="production").check_production()


def test_a_strong_token_may_listen_anywhere() -> None:
    Settings(api_host="0.0.0.0", automation_env="production", automation_admin_token=STRONG).check_production()


def test_keys_and_tokens_never_show_in_a_printed_settings() -> None:
    settings = Settings(automation_admin_token=STRONG, openai_api_key="sk-live-very-secret")
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert STRONG not in text and "sk-live-very-secret" not in text
    assert settings.automation_admin_token.get_secret_value() == STRONG
