"""The JSON answers asked of the model (structured outputs), and how each is checked.

The schemas sent are strict (every field required, nothing extra) and carry no length
limits, since strict mode rejects some of those keywords; limits are checked here instead.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from ...application.ai_port import (
    Article,
    ArticleBrief,
    Clustering,
    Idea,
    ImagePrompt,
    KeywordInput,
    NewCluster,
)
from .image_prompt_writer import MAX_IN_ARTICLE
from .prose import headline, word_count

MIN_ARTICLE_WORDS = 300
MAX_IDEAS = 3


class InvalidAnswer(ValueError):
    """The answer parsed but does not make sense; worth one re-ask."""


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClusterAnswer(_Answer):
    name: str
    description: str
    keyword_ids: list[str]


class AssignmentAnswer(_Answer):
    keyword_id: str
    cluster_id: str


class ClusteringAnswer(_Answer):
    clusters: list[ClusterAnswer]
    assignments: list[AssignmentAnswer]

    def to_clustering(self, keywords: list[KeywordInput], existing_ids: set[str]) -> Clustering:
        """Unknown ids are dropped; a keyword the model forgot becomes its own cluster."""
        by_id = {k.id: k for k in keywords}
        placed: set[str] = set()
        assigned: dict[str, str] = {}
        for a in self.assignments:
            known = a.keyword_id in by_id and a.cluster_id in existing_ids
            if known and a.keyword_id not in placed:
                assigned[a.keyword_id] = a.cluster_id
                placed.add(a.keyword_id)
        clusters: list[NewCluster] = []
        for c in self.clusters:
            ids = tuple(dict.fromkeys(i for i in c.keyword_ids if i in by_id and i not in placed))
            placed.update(ids)
            if ids:
                name = c.name.strip() or headline(by_id[ids[0]].keyword)
                clusters.append(NewCluster(name, c.description.strip(), ids))
        for k in keywords:
            if k.id not in placed:
                description = f'Searches about "{k.keyword}".'
                clusters.append(NewCluster(headline(k.keyword), description, (k.id,)))
        return Clustering(new_clusters=tuple(clusters), assigned=assigned)


class IdeaAnswer(_Answer):
    title: str
    description: str


class IdeasAnswer(_Answer):
    ideas: list[IdeaAnswer]

    def to_ideas(self) -> list[Idea]:
        ideas = [Idea(i.title.strip(), i.description.strip()) for i in self.ideas]
        ideas = [idea for idea in ideas if idea.title]
        if not ideas:
            raise InvalidAnswer("no idea has a title; give one to three ideas")
        return ideas[:MAX_IDEAS]


class ArticleAnswer(_Answer):
    title: str
    body: str

    def to_article(self, brief: ArticleBrief) -> Article:
        words = word_count(self.body)
        if words < MIN_ARTICLE_WORDS:
            raise InvalidAnswer(f"the body has {words} words, fewer than {MIN_ARTICLE_WORDS}")
        if not any(line.startswith("#") for line in self.body.splitlines()):
            raise InvalidAnswer("the body has no markdown headings")
        return Article(title=self.title.strip() or brief.title, body=self.body)


class ImagePromptsAnswer(_Answer):
    featured_prompt: str
    in_article_prompts: list[str]

    def to_prompts(self) -> list[ImagePrompt]:
        if not self.featured_prompt.strip():
            raise InvalidAnswer("featured_prompt is empty")
        extra = [p.strip() for p in self.in_article_prompts if p.strip()][:MAX_IN_ARTICLE]
        return [ImagePrompt("featured", self.featured_prompt.strip())] + [
            ImagePrompt("in_article", p) for p in extra
        ]


def response_format(name: str, answer: type[BaseModel]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": name,
            "strict": True,
            "schema": _strict(answer.model_json_schema()),
        },
    }


def _strict(node: Any) -> Any:
    """Every object closed and fully required, as strict structured outputs demand."""
    if isinstance(node, list):
        return [_strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title":  # pydantic's display titles, not fields
            continue
        if key in ("properties", "$defs"):  # maps of names, where "title" may be a field
            out[key] = {name: _strict(spec) for name, spec in value.items()}
        else:
            out[key] = _strict(value)
    if out.get("type") == "object" and "properties" in out:
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out
