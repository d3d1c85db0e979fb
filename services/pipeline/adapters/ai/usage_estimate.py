"""What a call will probably use, reserved from the rate limit before it is made.

Rough on purpose: the limiter settles every call with the usage it really reported, so
an estimate only decides how early a call may start, never what the limit ends up counting.
"""

from __future__ import annotations

from typing import Any

from ...application.ai_port import Usage
from .token_estimate import estimate_tokens

INSTRUCTIONS = 200  # the system message and the answer's JSON schema
ANSWER_TOKENS = {"generate_ideas": 250, "write_article": 1200, "image_prompts": 250}
TOKENS_PER_CLUSTERED_KEYWORD = 20


def estimate_usage(method: str, *args: Any) -> Usage:
    if method == "generate_image":
        return Usage(images=1)  # images count against their own limit, not the tokens one
    asked = INSTRUCTIONS + estimate_tokens(*(repr(a) for a in args))
    if method == "cluster_keywords":
        answer = TOKENS_PER_CLUSTERED_KEYWORD * len(args[0])
    else:
        answer = ANSWER_TOKENS.get(method, 500)
    return Usage(prompt_tokens=asked, completion_tokens=answer)
