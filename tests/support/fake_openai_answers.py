"""Plausible structured answers for the fake OpenAI server, chosen by JSON schema name."""

from __future__ import annotations

import json
import math
import struct
import zlib
from typing import Any

FILLER = (
    "This paragraph stands in for real writing and exists so the article clears the minimum "
    "length that the service promises for every piece of content it produces. "
)


def estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text.split()) * 4 / 3))


def answer_for(body: dict[str, Any]) -> dict[str, Any]:
    name = body["response_format"]["json_schema"]["name"]
    payload = _user_payload(body["messages"])
    return ANSWERS[name](payload)


def _user_payload(messages: list[dict[str, Any]]) -> dict[str, Any]:
    for message in reversed(messages):
        if message["role"] == "user":
            try:
                return json.loads(message["content"])
            except (TypeError, ValueError):
                continue  # a re-ask note; the original request is earlier
    return {}


def _clusters(payload: dict[str, Any]) -> dict[str, Any]:
    """Files keywords that contain an existing cluster's name; groups the rest by first word."""
    existing = payload.get("existing_clusters", [])
    assignments, groups = [], {}
    for kw in payload.get("keywords", []):
        home = next((c for c in existing if c["name"].lower() in kw["keyword"].lower()), None)
        if home:
            assignments.append({"keyword_id": kw["id"], "cluster_id": home["id"]})
        else:
            groups.setdefault(kw["keyword"].split()[0], []).append(kw["id"])
    clusters = [
        {"name": head.title(), "description": f"Keywords starting with {head}.", "keyword_ids": ids}
        for head, ids in groups.items()
    ]
    return {"clusters": clusters, "assignments": assignments}


def _ideas(payload: dict[str, Any]) -> dict[str, Any]:
    name = payload.get("name", "Topic")
    ideas = [
        {"title": f"The Complete Guide to {name}", "description": f"Everything about {name}."},
        {"title": f"{name}: 7 Mistakes to Avoid", "description": f"Pitfalls of {name}."},
    ]
    return {"ideas": ideas[: 1 if len(payload.get("keywords", [])) < 4 else 2]}


def _article(payload: dict[str, Any]) -> dict[str, Any]:
    title = payload.get("title", "Untitled")
    sections = [f"## {kw.title()}\n\n{FILLER * 3}" for kw in payload.get("keywords", [])[:4]]
    body = "\n\n".join([f"# {title}", FILLER * 6, *sections, f"## Conclusion\n\n{FILLER * 6}"])
    return {"title": title, "body": body}


def _image_prompts(payload: dict[str, Any]) -> dict[str, Any]:
    title = payload.get("title", "the article")
    sections = [line[3:] for line in payload.get("body", "").splitlines() if line.startswith("## ")]
    return {
        "featured_prompt": f"A bright photograph for {title}",
        "in_article_prompts": [f"A photograph illustrating {s}" for s in sections[:2]],
    }


ANSWERS = {
    "keyword_clusters": _clusters,
    "article_ideas": _ideas,
    "article": _article,
    "image_prompts": _image_prompts,
}


def png_for(prompt: str, size: int = 4) -> bytes:
    """A tiny valid PNG whose colour depends on the prompt."""
    colour = bytes((len(prompt) * 37 % 256, 120, 200))
    raw = b"".join(b"\x00" + colour * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    chunks = (_chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(raw)), _chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
