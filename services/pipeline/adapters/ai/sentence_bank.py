"""Sentences the offline writer composes articles from; niche-neutral on purpose.

``{kw}`` is a section's keyword, ``{topic}`` the article's main keyword.
"""

INTROS = (
    "If you have been reading up on {topic}, you have probably met more opinions than answers.",
    "Few subjects attract as much confident advice as {topic}, and much of it contradicts itself.",
    "Getting {topic} right is less about expensive gear than about a handful of habits.",
    "Most people come to {topic} with one question and leave with ten more.",
    "There is a reason {topic} keeps coming up: small changes make a noticeable difference.",
)

SECTION_TITLES = (
    "Going Further With",
    "Practical Tips for",
    "Troubleshooting",
    "A Closer Look at",
    "Getting the Most From",
)

SECTION_SENTENCES = (
    "When it comes to {kw}, the details matter more than most people expect.",
    "Start with the basics of {kw} and change one thing at a time, so you can tell what helped.",
    "A common mistake with {kw} is copying someone else's setup without checking what you have.",
    "Write down what you try with {kw}; a short log saves weeks of guessing.",
    "You do not need the most expensive option to get good results with {kw}.",
    "Consistency beats perfection here: repeat what works with {kw} before you tweak it.",
    "Most problems people blame on {kw} turn out to come from a step just before it.",
    "Read the manual or the maker's notes on {kw}; they answer more than you think.",
    "If the result disappoints, adjust {kw} in small steps rather than large jumps.",
    "Think of {kw} as part of a routine, not a one-off decision.",
    "Reviews of {kw} are useful, but read them for the trade-offs, not the star ratings.",
    "Cleanliness and freshness affect {kw} more than almost any upgrade.",
    "Beginners often overcomplicate {kw}; experienced hands tend to simplify it.",
    "It is worth setting a budget for {kw} before you start comparing options.",
    "Measure rather than eyeball: numbers make {kw} repeatable.",
    "The right choice for {kw} depends on how often you will use it and how much time you have.",
    "There is no single correct answer for {kw}, only a range that suits your taste.",
    "Once {kw} is dialled in, keep notes so you can return to it after a change.",
    "Ask what problem you are solving before you spend money on {kw}.",
    "Quality at every step adds up, and {kw} is one of the steps people skip.",
    "Give {kw} a fair trial of a week or so before you judge it.",
    "Small, regular maintenance keeps {kw} working the way it did on day one.",
    "People who enjoy {kw} most are usually the ones who stay curious about it.",
    "Compare {kw} against what you did before, not against a perfect ideal.",
)

CHECKLIST = (
    "Decide what you want from {kw} before buying anything.",
    "Change one variable at a time and note the result.",
    "Keep everything clean; residue spoils good work.",
    "Use fresh ingredients and materials where freshness matters.",
    "Measure amounts and times instead of guessing.",
    "Read the instructions once, properly, before improvising.",
    "Set a budget and stick to it.",
    "Revisit your notes on {kw} after a few weeks.",
)

CLOSINGS = (
    "{topic} rewards patience more than spending. Start with the basics above, keep notes, "
    "and adjust in small steps. Within a few weeks you will have a routine you trust, and the "
    "confidence to experiment beyond it.",
    "There is no secret to {topic}, only a sequence of sensible choices. Pick one idea from this "
    "guide, try it this week, and build from there. Good results tend to follow good habits.",
    "Whatever your starting point, {topic} gets easier with practice. Use the checklist, trust "
    "your own judgement over hype, and enjoy the process as much as the result.",
)
