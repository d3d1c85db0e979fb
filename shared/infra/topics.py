"""The application's Kafka topics: create them if absent, delete them, wait for a broker.

Every process calls `ensure_topics` at start-up, and `make services` runs
`python -m shared.infra.topics --wait SECONDS` once the local broker is started, so topics
never depend on the broker's auto-creation (which would give them its default settings).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from shared.infra.settings import Settings, get_settings

# Kafka protocol error codes that mean "already in the wanted state".
_TOPIC_ALREADY_EXISTS = 36
_UNKNOWN_TOPIC_OR_PARTITION = 3


def topic_names(settings: Settings) -> list[str]:
    return [settings.commands_topic, settings.events_topic]


def _admin(settings: Settings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id="automation-topics",
        request_timeout_ms=15000,
    )


def _check(errors, ignore: int, action: str) -> list[str]:
    """Raise on a real per-topic error; return the topics the request itself acted on."""
    done = []
    # Entries are (topic, error_code[, error_message]) depending on the protocol version.
    for topic, code, *message in errors:
        if code == 0:
            done.append(topic)
        elif code != ignore:
            detail = message[0] if message and message[0] else f"error code {code}"
            raise KafkaError(f"could not {action} topic {topic}: {detail}")
    return done


async def ensure_topics(
    settings: Settings | None = None, partitions: int = 6, replication_factor: int = 1
) -> list[str]:
    """Create the commands and events topics that do not exist yet; returns those created.

    Safe to call from several processes at once: losing the race to create is not an error.
    Existing topics are left as they are (their partition count is not changed).
    """
    settings = settings or get_settings()
    admin = _admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in topic_names(settings) if name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [NewTopic(name, partitions, replication_factor) for name in missing]
        )
        return _check(response.topic_errors, _TOPIC_ALREADY_EXISTS, "create")
    finally:
        await admin.close()


async def delete_topics(settings: Settings | None = None, timeout: float = 30.0) -> None:
    """Delete the commands and events topics if they exist (tests with their own prefix).

    Returns once the broker no longer lists them, so that they can be created again at once.
    """
    settings = settings or get_settings()
    names = set(topic_names(settings))
    admin = _admin(settings)
    await admin.start()
    try:
        present = sorted(names & set(await admin.list_topics()))
        if not present:
            return
        response = await admin.delete_topics(present)
        _check(response.topic_error_codes, _UNKNOWN_TOPIC_OR_PARTITION, "delete")
        deadline = time.monotonic() + timeout
        while names & set(await admin.list_topics()):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"topics {present} still listed {timeout:.0f}s after deletion")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def wait_for_broker(settings: Settings | None = None, timeout: float = 60.0) -> None:
    """Return once the broker answers a metadata request; raise TimeoutError after `timeout`."""
    settings = settings or get_settings()
    deadline = time.monotonic() + timeout
    while True:
        admin = _admin(settings)
        try:
            await admin.start()
            await admin.describe_cluster()
            return
        except (KafkaError, OSError) as exc:
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"Kafka at {settings.kafka_bootstrap_servers} did not answer "
                    f"within {timeout:.0f}s: {exc!r}"
                ) from exc
        finally:
            await admin.close()
        await asyncio.sleep(0.5)


async def _main(wait: float) -> None:
    settings = get_settings()
    if wait > 0:
        await wait_for_broker(settings, wait)
    # Right after a broker's first start its controller may briefly refuse to create topics.
    deadline = time.monotonic() + max(wait, 10.0)
    while True:
        try:
            created = await ensure_topics(settings)
            break
        except KafkaError:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.5)
    for name in topic_names(settings):
        print(f"topic {name}: {'created' if name in created else 'exists'}")


def main(argv: list[str] | None = None) -> int:
    # While the broker is still starting, aiokafka logs every refused connection; the final
    # error, if any, says what went wrong.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description="Create the application's Kafka topics.")
    parser.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS",
        help="first wait up to SECONDS for the broker to answer",
    )
    args = parser.parse_args(argv)
    try:
        asyncio.run(_main(args.wait))
    except (TimeoutError, KafkaError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
