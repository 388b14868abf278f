"""The order of the passages' sentences as answers: one weighted sum over named features.

`evidence.best_sentences` describes every sentence it keeps by SENTENCE_FEATURES (kept on each Evidence,
so the chooser and any later model can read them). The weights are the hand-set order these features
were named from. Fitted models were tried on the pool's train split and measured on its validation
split (top-1 sentence right, 75 questions): this order 0.63; pointwise logistic 0.56; listwise
conditional logit 0.59-0.60; either with the sentence's own embedding similarity 0.64 (train got worse).
None beat it on held-out questions, so it stays until a feature that carries new information does.
"""

from __future__ import annotations

SENTENCE_FEATURES = ["support", "retrieval_rank", "retrieval_score", "dense", "missing_names", "areas_met",
                     "figure_fit", "figure_missing", "share_fit", "place_fit", "first_in_passage", "refers_back",
                     "numbers", "log_length", "footnote", "compare", "cause_fit", "count_fit", "defines"]
WEIGHTS = {"support": 1.0, "retrieval_rank": 0.25, "retrieval_score": 0.05, "missing_names": -0.15, "areas_met": 0.1,
           "figure_fit": 0.15, "figure_missing": -0.3, "share_fit": 0.2, "place_fit": 0.2,
           "cause_fit": 0.2,  # a 'why' question is answered by a sentence giving a cause ('because', 'driven by')
           "count_fit": 0.2,  # a 'how many X' question by a sentence counting X, not one with other numbers
           "defines": 0.3}  # 'what is X' by the sentence saying what X is
COMPARE_MISSING = -0.2  # a comparison needs both sides: a missing name costs more there


def sentence_score(features: dict[str, float]) -> float:
    """How good an answer a sentence is, higher first."""
    score = sum(WEIGHTS.get(name, 0.0) * value for name, value in features.items())
    return score + COMPARE_MISSING * features["compare"] * features["missing_names"]
