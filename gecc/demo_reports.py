"""Plausible round reports for the demo: most centers do well, some are at risk, a few fail."""

import random
from typing import Any

from shared.standards import Standard

PROFILES: tuple[tuple[str, float], ...] = (
    ("good", 0.80),
    ("low_satisfaction", 0.08),
    ("mandatory_unmet", 0.05),
    ("small_sample", 0.04),
    ("weak_checklist", 0.03),
)


def pick_profile(rng: random.Random) -> str:
    return rng.choices([p for p, _ in PROFILES], weights=[w for _, w in PROFILES])[0]


def _counts(rng: random.Random, respondents: int, mean_shift: float) -> list[int]:
    """Ratings 1..5 of everyone who answered the question, centred near 4.5 - shift."""
    answered = max(1, respondents - rng.randint(0, respondents // 20))
    weights = [0.01, 0.02, 0.07 + mean_shift / 2, 0.35 + mean_shift / 2, 0.55 - mean_shift]
    counts = [0] * 5
    for rating in rng.choices(range(5), weights=weights, k=answered):
        counts[rating] += 1
    return counts


def report(standard: Standard, round_id: str, profile: str, rng: random.Random) -> dict[str, Any]:
    respondents = rng.randint(8, 29) if profile == "small_sample" else rng.randint(60, 600)
    shift = 0.45 if profile == "low_satisfaction" else rng.uniform(0.0, 0.12)
    optional = [i.code for i in standard.items if not i.mandatory]
    unmet = set(rng.sample(optional, k=rng.randint(0, 2)))
    if profile == "weak_checklist":
        unmet = set(rng.sample(optional, k=min(len(optional), 8)))
    if profile == "mandatory_unmet":
        unmet.add(rng.choice([i.code for i in standard.items if i.mandatory]))
    return {
        "round_id": round_id,
        "satisfaction": {
            "respondents": respondents,
            "questions": [
                {"code": q.code, "counts": _counts(rng, respondents, shift)}
                for q in standard.questions
            ],
        },
        "checklist": {
            "standard": standard.id,
            "items": [
                {
                    "code": item.code,
                    "met": item.code not in unmet,
                    "evidence": "" if item.code in unmet else f"หลักฐานประกอบ {item.code}",
                }
                for item in standard.items
            ],
        },
    }
