"""The publisher's configuration, from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PublisherSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PUBLISHER_", extra="ignore")

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("PUBLISHER_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"),
    )
    events_topic: str = "automation.events"
    # Its own group: it reads every event at its own pace, whatever the projector does.
    group_id: str = "example-publisher"
    api_url: str = "http://127.0.0.1:8000"
    api_token: str = Field(description="A token of the account whose content is published")
    account_id: str = Field(description="That account: other accounts' events are skipped")
    output_dir: Path = Path("published")
    # How long to wait before a failed publication is tried again (the API may be restarting).
    retry_delay_seconds: float = 1.0
