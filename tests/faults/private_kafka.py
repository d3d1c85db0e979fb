"""A Kafka broker of the fault suite's own: its ports, its log.dirs, stopped at will.

It runs the jars `infra/kafka.sh` assembled in the cache (nothing is downloaded here),
with the repo's server.properties moved to free ports and a temporary data directory.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

from shared.infra.settings import Settings
from shared.infra.topics import wait_for_broker
from tests.support.stack import ROOT, free_port

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "automation-pipeline"
HEAP = ["-Xms128m", "-Xmx384m"]


def kafka_version() -> str:
    pom = (ROOT / "infra" / "kafka" / "pom.xml").read_text()
    return re.search(r"<kafka.version>(.*)</kafka.version>", pom).group(1)


def kafka_libs() -> Path:
    return CACHE / f"kafka-{kafka_version()}" / "libs"


class PrivateKafka:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port, self.controller_port = free_port(), free_port()
        self.config = root / "server.properties"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def init(self) -> "PrivateKafka":
        libs = kafka_libs()
        if not any(libs.glob("kafka_*.jar")):
            raise RuntimeError(f"no Kafka jars in {libs}: run `make services` once")
        self.root.mkdir(parents=True, exist_ok=True)
        template = (ROOT / "infra" / "kafka" / "server.properties").read_text()
        self.config.write_text(
            template.replace("@DATA_DIR@", str(self.root / "data"))
            .replace("127.0.0.1:9092", self.bootstrap)
            .replace("127.0.0.1:9093", f"127.0.0.1:{self.controller_port}")
            # Lets the stacks use a short session timeout, so a killed process's partitions
            # move in about two seconds instead of the broker minimum's six.
            + "group.min.session.timeout.ms=1000\n"
        )
        # A cluster id is 16 random bytes in URL-safe base64; making it here saves a JVM start.
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        subprocess.run(self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.config)),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        return self

    def start(self, timeout: float = 90.0) -> None:
        log = open(self.root / "kafka.out", "ab")
        self.proc = subprocess.Popen(self._java("kafka.Kafka", str(self.config)), stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        asyncio.run(wait_for_broker(Settings(kafka_bootstrap_servers=self.bootstrap), timeout))

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        _wait_closed(self.port)

    def _java(self, main: str, *args: str) -> list[str]:
        return ["java", *HEAP, "-XX:+UseG1GC", "-Djava.awt.headless=true",
                f"-Dkafka.logs.dir={self.root / 'logs'}",
                f"-Dlog4j2.configurationFile={ROOT / 'infra' / 'kafka' / 'log4j2.properties'}",
                "-cp", f"{kafka_libs()}/*", main, *args]


def _wait_closed(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.1)
