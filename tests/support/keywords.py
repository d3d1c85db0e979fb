"""Realistic keyword sets for tests, made up here: a few topics, several phrasings each."""

from __future__ import annotations

TOPICS = {
    "espresso machine": ["best {t}", "{t} for beginners", "cheap {t}", "{t} cleaning", "{t} reviews"],
    "pour over coffee": ["how to make {t}", "{t} ratio", "{t} kettle", "{t} grind size", "{t} vs french press"],
    "cold brew": ["{t} recipe", "{t} concentrate", "{t} caffeine", "{t} maker", "how long to steep {t}"],
    "coffee grinder": ["burr {t}", "manual {t}", "best {t} for espresso", "{t} settings", "{t} cleaning"],
}


def keyword_set(topics: int = 4, per_topic: int = 5) -> list[str]:
    chosen = list(TOPICS.items())[:topics]
    return [pattern.format(t=topic) for topic, patterns in chosen for pattern in patterns[:per_topic]]
