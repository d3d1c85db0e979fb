import asyncio
import csv
import json
import os
import hashlib
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import services.demo
import services.pipeline.adapters.ai.offline as offline_module
from services.pipeline.adapters.ai import build_ai_provider
from services.pipeline.adapters.ai.keyword_similarity import SimilarityIndex
from services.pipeline.adapters.ai.offline import OfflineAI
from services.pipeline.adapters.ai.prose import word_count
from services.pipeline.adapters.ai.text_features import features
from services.pipeline.application.ai_port import (
    ArticleBrief,
    ArticleInput,
    ClusterInput,
    ExistingCluster,
    KeywordInput,
)
from shared.infra.settings import Settings

pytestmark = pytest.mark.unit

SAMPLE_CSV = Path(services.demo.__file__).parent / "data" / "sample_keywords.csv"
REPO_ROOT = Path(__file__).resolve().parents[2]


def kws(*texts: str) -> list[KeywordInput]:
    return [KeywordInput(id=f"k{n}", keyword=t) for n, t in enumerate(texts)]


def sample_keywords() -> list[KeywordInput]:
    with SAMPLE_CSV.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        KeywordInput(id=str(n), keyword=r["keyword"], volume=int(r["volume"]), intent=r["intent"])
        for n, r in enumerate(rows)
    ]


def cluster_of(clustering) -> dict[str, int]:
    return {kid: n for n, c in enumerate(clustering.new_clusters) for kid in c.keyword_ids}


GROUPS = {
    "moka": ["moka pot", "how to use a moka pot", "best moka pot", "moka pot coffee ratio"],
    "cold": ["cold brew coffee", "cold brew ratio", "how to make cold brew", "cold brew maker"],
    "burr": ["burr grinder", "conical burr grinder", "flat burr grinder", "best burr grinder"],
}


async def test_similar_keywords_share_a_cluster_and_unrelated_ones_do_not():
    keywords = [
        KeywordInput(id=f"{group}{n}", keyword=text)
        for group, texts in GROUPS.items()
        for n, text in enumerate(texts)
    ]
    result = (await OfflineAI().cluster_keywords(keywords, [])).value
    where = cluster_of(result)
    for group, texts in GROUPS.items():
        assert len({where[f"{group}{n}"] for n in range(len(texts))}) == 1, group
    assert len({where["moka0"], where["cold0"], where["burr0"]}) == 3
    names = {c.name for c in result.new_clusters}
    assert {"Moka Pot", "Cold Brew", "Burr Grinder"} <= names


async def test_every_keyword_is_placed_exactly_once():
    keywords = sample_keywords()[:120]
    result = (await OfflineAI().cluster_keywords(keywords, [])).value
    placed = [kid for c in result.new_clusters for kid in c.keyword_ids]
    assert sorted(placed) == sorted(k.id for k in keywords)
    assert all(c.name and c.description for c in result.new_clusters)


phrases = st.text(alphabet=st.sampled_from("abc xyz-é'1"), max_size=20)


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(phrases, max_size=25),
    existing=st.lists(st.lists(phrases, max_size=4), max_size=4),
)
def test_any_input_places_each_keyword_exactly_once(texts, existing):
    keywords = kws(*texts)
    clusters = [ExistingCluster(f"c{n}", "".join(k[:1]), tuple(k)) for n, k in enumerate(existing)]
    result = asyncio.run(OfflineAI().cluster_keywords(keywords, clusters)).value
    placed = [kid for c in result.new_clusters for kid in c.keyword_ids] + list(result.assigned)
    assert sorted(placed) == sorted(k.id for k in keywords)
    assert set(result.assigned.values()) <= {c.id for c in clusters}
    assert all(c.keyword_ids for c in result.new_clusters)


async def test_sample_list_clusters_into_a_sensible_plan():
    keywords = sample_keywords()
    assert 280 <= len(keywords) <= 320
    result = (await OfflineAI().cluster_keywords(keywords, [])).value
    sizes = sorted((len(c.keyword_ids) for c in result.new_clusters), reverse=True)
    assert 15 <= len(sizes) <= 90
    assert sizes[0] <= 0.15 * len(keywords)
    assert sum(s == 1 for s in sizes) <= 0.1 * len(keywords)  # not one cluster per keyword
    assert len({c.name for c in result.new_clusters}) == len(sizes)  # names tell them apart


async def test_sample_list_in_batches_of_20_files_into_earlier_clusters():
    keywords, clusters = sample_keywords(), {}
    for start in range(0, len(keywords), 20):
        existing = [ExistingCluster(cid, name, tuple(ks)) for cid, (name, ks) in clusters.items()]
        result = (await OfflineAI().cluster_keywords(keywords[start : start + 20], existing)).value
        text = {k.id: k.keyword for k in keywords[start : start + 20]}
        for kid, cid in result.assigned.items():
            clusters[cid][1].append(text[kid])
        for c in result.new_clusters:
            clusters[f"c{len(clusters)}"] = (c.name, [text[kid] for kid in c.keyword_ids])
    sizes = sorted((len(ks) for _, ks in clusters.values()), reverse=True)
    assert sum(sizes) == len(keywords)
    assert 15 <= len(sizes) <= 100 and sizes[0] <= 0.15 * len(keywords)


async def test_clustering_is_deterministic_in_process():
    keywords = sample_keywords()
    first = await OfflineAI().cluster_keywords(keywords, [])
    second = await OfflineAI().cluster_keywords(keywords, [])
    assert first == second


def test_clustering_is_deterministic_across_hash_seeds():
    script = (
        "import asyncio, json, sys; sys.path.insert(0, '.');"
        "from tests.unit.test_offline_ai import sample_keywords;"
        "from services.pipeline.adapters.ai.offline import OfflineAI;"
        "r = asyncio.run(OfflineAI().cluster_keywords(sample_keywords(), [])).value;"
        "print(json.dumps([[c.name, c.description, c.keyword_ids] for c in r.new_clusters]))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1 and json.loads(outputs.pop())


def test_clustering_leaves_the_remembered_features_of_a_phrase_as_they_were():
    # Features are cached across calls; splitting a compound in one call must not leak.
    alone = dict(features("pourover").stems)
    index = SimilarityIndex(["pour over", "pourover"])
    assert {"pour", "over"} <= index.features[1].stems.keys()
    assert dict(features("pourover").stems) == alone and "pour" not in alone


async def test_a_clustering_call_over_many_phrases_runs_off_the_event_loop(monkeypatch):
    threads: list[int] = []

    def recording(keywords, existing):
        threads.append(threading.get_ident())
        return real(keywords, existing)

    real = offline_module.cluster_keywords
    monkeypatch.setattr(offline_module, "cluster_keywords", recording)
    texts = [k.keyword for k in sample_keywords()]
    many = [ExistingCluster(f"c{n}", texts[n], tuple(texts[n : n + 8])) for n in range(40)]
    await OfflineAI().cluster_keywords(kws("moka pot"), [])
    await OfflineAI().cluster_keywords(kws("moka pot"), many)
    assert threads[0] == threading.get_ident() != threads[1]


async def test_new_keywords_are_filed_into_existing_clusters_where_they_fit():
    moka = ("moka pot", "how to use a moka pot", "best moka pot")
    kettle = ("gooseneck kettle", "gooseneck kettle 1l")
    existing = [
        ExistingCluster("c-moka", "Moka Pot", moka),
        ExistingCluster("c-kettle", "Gooseneck Kettle", kettle),
    ]
    new = kws("moka pot induction", "best gooseneck kettle", "turkish coffee", "turkish coffee pot")
    result = (await OfflineAI().cluster_keywords(new, existing)).value
    assert result.assigned == {"k0": "c-moka", "k1": "c-kettle"}
    assert [set(c.keyword_ids) for c in result.new_clusters] == [{"k2", "k3"}]


async def test_ideas_scale_with_cluster_size_and_vary_their_format():
    ai = OfflineAI()
    small = ClusterInput("c1", "Moka Pot", "", ("moka pot", "best moka pot"))
    large = ClusterInput("c2", "Cold Brew", "", tuple(GROUPS["cold"] * 3))
    few, many = (await ai.generate_ideas(small)).value, (await ai.generate_ideas(large)).value
    assert len(few) == 1 and len(many) == 3
    assert len({i.title for i in many}) == 3
    assert all("Cold Brew" in i.title and i.description for i in many)
    assert (await ai.generate_ideas(large)).value == many


async def test_article_has_headings_and_at_least_300_words():
    brief = ArticleBrief("t1", "The Complete Guide to Moka Pot", "A guide.", tuple(GROUPS["moka"]))
    result = await OfflineAI().write_article(brief)
    body = result.value.body
    assert body.startswith("# The Complete Guide to Moka Pot\n")
    headings = [line for line in body.splitlines() if line.startswith("## ")]
    assert len(headings) >= 4 and headings[-1] == "## Conclusion"
    assert "## How to Use a Moka Pot" in headings
    assert word_count(body) >= 300 and len(body.split()) >= 300
    assert (await OfflineAI().write_article(brief)).value == result.value


@settings(max_examples=40, deadline=None)
@given(
    title=st.text(min_size=0, max_size=60),
    keywords=st.lists(st.text(max_size=30), max_size=8),
)
def test_any_brief_gives_at_least_300_words(title, keywords):
    brief = ArticleBrief("t", title, "", tuple(keywords))
    body = asyncio.run(OfflineAI().write_article(brief)).value.body
    assert word_count(body) >= 300 and len(body.split()) >= 300
    assert "\n## Conclusion\n" in body


async def test_image_prompts_follow_the_article():
    ai = OfflineAI()
    brief = ArticleBrief("t", "Moka Pot", "", tuple(GROUPS["moka"]))
    long_body = (await ai.write_article(brief)).value.body
    prompts = (await ai.image_prompts(ArticleInput("c1", "Moka Pot", long_body))).value
    assert [p.kind for p in prompts] == ["featured", "in_article", "in_article", "in_article"]
    assert all("Moka Pot" in p.prompt for p in prompts)
    short_body = "# Short\n\nIntro.\n\n## Only Section\n\nText."
    short = (await ai.image_prompts(ArticleInput("c2", "Short", short_body))).value
    assert [p.kind for p in short] == ["featured"]


async def test_generated_image_is_a_valid_png():
    result = await OfflineAI().generate_image("a moka pot on a stove")
    png = result.value.png
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = {}, 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + data) == crc
        chunks[kind] = chunks.get(kind, b"") + data
        pos += 12 + length
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (width, height, depth, colour) == (256, 144, 8, 2)
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + width * 3)
    assert b"IEND" in chunks
    assert result.usage.images == 1
    again = (await OfflineAI().generate_image("a moka pot on a stove")).value.png
    other = (await OfflineAI().generate_image("cold brew in a jar")).value.png
    assert again == png and other != png


def png_pixels(png: bytes) -> bytes:
    pos, idat = 8, b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        if png[pos + 4 : pos + 8] == b"IDAT":
            idat += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return zlib.decompress(idat)


async def test_the_picture_for_a_prompt_never_changes():
    # Pinned on the pixels, not the file bytes, which follow the zlib build in use.
    pictures = {
        "a moka pot on a stove": "1f64b72a29968c0c167d4c27688d897550de4dba3ff26a47a58b2bce15578ad9",
        "cold brew in a jar": "4e1232381069add76713bf2745106b01c1078bfc71b13269de73dad9524a7019",
    }
    for prompt, digest in pictures.items():
        png = (await OfflineAI().generate_image(prompt)).value.png
        assert hashlib.sha256(png_pixels(png)).hexdigest() == digest, prompt


async def test_usage_is_about_four_tokens_per_three_words():
    brief = ArticleBrief("t", "Moka Pot", "", tuple(GROUPS["moka"]))
    result = await OfflineAI().write_article(brief)
    words = len(result.value.body.split())
    assert abs(result.usage.completion_tokens - words * 4 / 3) <= 2
    assert result.usage.prompt_tokens > 0 and result.usage.images == 0


async def test_latency_is_simulated():
    started = time.monotonic()
    await OfflineAI(latency_ms=200).generate_ideas(ClusterInput("c", "Moka Pot", "", ("moka pot",)))
    assert time.monotonic() - started >= 0.19


async def test_cancelling_aborts_an_in_flight_call_promptly():
    task = asyncio.create_task(OfflineAI(latency_ms=600_000).cluster_keywords(sample_keywords(), []))
    await asyncio.sleep(0)  # one turn of the loop: the task is now in the call's first await, its latency
    task.cancel()
    # Far below the call's 10 minutes: it was abandoned. (The deadline goes inside, so that
    # its own cancellation surfaces as TimeoutError, not as the expected CancelledError.)
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):
            await task


def test_build_ai_provider_follows_settings():
    offline = build_ai_provider(Settings(ai_provider="offline", offline_ai_latency_ms=25))
    assert offline.name == "offline" and offline.latency_ms == 25
    remote = build_ai_provider(Settings(ai_provider="openai", openai_api_key="sk-test"))
    assert remote.name == "openai"
    asyncio.run(remote.aclose())
