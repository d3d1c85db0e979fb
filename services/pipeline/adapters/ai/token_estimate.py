"""Token counts without a tokenizer: English runs at about four tokens per three words."""

from __future__ import annotations


def estimate_tokens(*texts: str) -> int:
    return tokens_for_words(sum(len(text.split()) for text in texts))


def tokens_for_words(words: int) -> int:
    """For a writer that knows how many words it wrote: the same estimate, none reread."""
    return (4 * words + 2) // 3  # ceil(words * 4 / 3), in integers
