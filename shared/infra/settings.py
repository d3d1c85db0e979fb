"""The one place configuration is read from the environment (CONTRACT §2)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Literal
from urllib.parse import unquote, urlparse

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Where each process serves /metrics unless METRICS_PORT says otherwise (the API serves it
# on its own port).
DEFAULT_METRICS_PORTS = {"pipeline": 9101, "projector": 9102, "scheduler": 9103}
# The local server `make services` starts: the services connect as its application role,
# which may not rewrite stored events; the migrations as the owner of the schema.
LOCAL_DATABASE_URL = "postgresql://automation_app:automation_app@127.0.0.1:5432/automation"
LOCAL_OWNER_URL = "postgresql://automation:automation@127.0.0.1:5432/automation"
PLACEHOLDER_ADMIN_TOKEN = "dev-admin-token"
# Shorter tokens are guessable; only a loopback development API may use one.
MIN_ADMIN_TOKEN_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str = LOCAL_DATABASE_URL
    # The schema owner's DSN, for `automation db upgrade` only, where the services' role
    # (DATABASE_URL) may not change the schema nor rewrite stored events. Unset: the local
    # server's owner while DATABASE_URL is the local default, else DATABASE_URL itself.
    database_owner_url: str | None = None
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Lets test sessions and deployments share one broker without sharing topics.
    kafka_topic_prefix: str = ""
    # How soon a vanished pipeline process's sites move to another (the broker's minimum is 6 s).
    kafka_session_timeout_ms: int = 10_000
    # How often the scheduler looks for due slots; a due site starts within about this long.
    scheduler_interval_seconds: float = Field(default=20.0, gt=0)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # How long run_now waits for the pipeline's decision before withdrawing the command.
    admission_timeout_seconds: float = Field(default=20.0, gt=0)
    # run_now, pause, resume, cancel and keyword uploads per account per minute, across replicas.
    api_rate_limit_per_minute: int = Field(default=120, ge=1)
    automation_admin_token: SecretStr = SecretStr(PLACEHOLDER_ADMIN_TOKEN)
    automation_env: Literal["development", "production"] = "development"

    # Observability (docs/OBSERVABILITY.md). Tracing is on only when OTEL_* variables ask for it.
    log_format: Literal["json", "console"] = "json"
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    # Off: no Prometheus series are recorded or served and no spans are made, whatever OTEL_* says;
    # what `make bench` compares against.
    instrumentation: bool = True
    # How often sampled gauges (runs by status, outbox, consumer and projection lag) are read.
    metrics_sample_seconds: float = Field(default=5.0, gt=0)

    ai_provider: Literal["offline", "openai"] = "offline"
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_image_model: str = "dall-e-3"
    openai_timeout_seconds: float = 60.0
    openai_max_retries: int = 3
    # The provider's limits, held across every pipeline process together; unset: unlimited.
    ai_requests_per_minute: int | None = Field(default=None, gt=0)
    ai_tokens_per_minute: int | None = Field(default=None, gt=0)
    ai_images_per_minute: int | None = Field(default=None, gt=0)
    offline_ai_latency_ms: int = Field(default=0, ge=0)
    # A regex: offline per-item calls about matching subjects fail, to exercise failure handling.
    offline_ai_fail_pattern: str | None = None
    # Most AI calls in flight in this pipeline process, whatever its runs and accounts allow.
    ai_max_in_flight: int = Field(default=64, ge=1)

    # The HMAC key of the audit checkpoints (CONTRACT §7); unset: plain sha256, which anyone
    # who can write the database can recompute.
    audit_key: SecretStr | None = None
    # The outbox relay appends a checkpoint after this many notification ids, or this long
    # after the last one when there is anything new.
    audit_checkpoint_events: int = Field(default=1000, ge=1)
    audit_checkpoint_seconds: float = Field(default=60.0, gt=0)

    @property
    def commands_topic(self) -> str:
        return f"{self.kafka_topic_prefix}automation.commands"

    @property
    def events_topic(self) -> str:
        return f"{self.kafka_topic_prefix}automation.events"

    def group_id(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}automation-{name}"

    def metrics_port_for(self, process: str) -> int:
        return self.metrics_port or DEFAULT_METRICS_PORTS[process]

    def check_production(self) -> None:
        """Refuse the development admin token, or any short one, wherever someone else could
        reach the API: in production, or listening beyond loopback."""
        token = self.automation_admin_token.get_secret_value()
        weak = token == PLACEHOLDER_ADMIN_TOKEN or len(token) < MIN_ADMIN_TOKEN_LENGTH
        if weak and (self.automation_env == "production" or not is_loopback(self.api_host)):
            raise RuntimeError(
                f"AUTOMATION_ADMIN_TOKEN must be a secret of at least {MIN_ADMIN_TOKEN_LENGTH} characters"
                f" (not the development token) when the API listens on {self.api_host}"
                f" or AUTOMATION_ENV is production"
            )

    @property
    def migration_database_url(self) -> str:
        if self.database_owner_url:
            return self.database_owner_url
        # A deployment that names one DSN only runs everything as that role.
        return LOCAL_OWNER_URL if self.database_url == LOCAL_DATABASE_URL else self.database_url

    def eventsourcing_env(self) -> dict[str, str]:
        """The `eventsourcing` library reads its PostgreSQL settings from POSTGRES_* keys."""
        url = urlparse(self.database_url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or ""),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": "8",
            "POSTGRES_MAX_OVERFLOW": "8",
            "POSTGRES_LOCK_TIMEOUT": "5",
            # The migrations own the event store's tables too (0001_baseline): no process creates any.
            "CREATE_TABLE": "n",
        }


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name (or 0.0.0.0-like wildcard spelled otherwise): assume reachable
        return False


@lru_cache
def get_settings() -> Settings:
    return Settings()
