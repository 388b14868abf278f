"""Fit the chooser's weights on labelled questions; report them on a validation split by paragraph.

    python -m assistant.train            # fit on the train split, print validation, write weights.json
    python -m assistant.train --check    # print the same table for the weights as they are, write nothing
    python -m assistant.train --cv --also unseen_s17 unseen_s18   # cross-validated accuracy, write nothing

Questions about one passage stay on one side: the split is by each question's `group` (the
paragraph or table it is about), hashed, so a new question about a validated paragraph stays in
validation. Tuned sets (dev, probe) are training data only. scikit-learn is needed here only: the
fitted weights are plain numbers applied with numpy at answer time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
from collections import defaultdict
from pathlib import Path

import numpy as np

from assistant.answerers import ANSWERER_NAMES, AnswerContext, propose
from assistant.chooser import (
    CANDIDATE_FEATURES,
    INTENTS,
    QUESTION_FEATURES,
    WEIGHTS,
    Model,
    choose,
    feature_rows,
    form_vector,
    load_model,
    meets_constraints,
)
from assistant.evaluate import is_correct, load_items
from ingest.records import Answer
from ingest.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)

EVAL_DIR = REPO_ROOT / "tests" / "eval"
POOL = sorted((EVAL_DIR / "pool").glob("*.jsonl"))
TUNED = [EVAL_DIR / name for name in ("dev.jsonl", "probe.jsonl", "probe2.jsonl")]
VALIDATION_SHARE = 4  # one group in four is held out
THRESHOLD_TOLERANCE = 0.005


def split_of(item: dict) -> str:
    """'validation' or 'train', fixed by the item's passage group (never by the question)."""
    group = item.get("group") or "none"
    if group == "none":  # off-topic questions share no passage: each is its own group
        group = item["id"]
    return "validation" if int(hashlib.sha1(group.encode()).hexdigest(), 16) % VALIDATION_SHARE == 0 else "train"


def labelled_items(also: list[str] = ()) -> list[dict]:
    """The pool and the sets named in `also` (each split by group), and the tuned sets (train only)."""
    items = []
    for path in POOL + [EVAL_DIR / f"{name}.jsonl" for name in also]:
        items += [{**item, "split": split_of(item)} for item in load_items(path)]
    for path in TUNED:
        if path.exists():
            items += [{**item, "split": "train", "group": f"{path.stem}:{item['id']}"} for item in load_items(path)]
    return items


def gather(items: list[dict], settings: Settings) -> list[dict]:
    """Every item's question vector, context and candidates, with each candidate's correctness."""
    from assistant.service import Assistant

    assistant = Assistant(settings)
    out = []
    for item in items:
        query = assistant.understand(item["question"])
        if query.empty:
            continue
        loaded, vector, hits = assistant.search(query)
        ctx = AnswerContext(query=query, hits=hits, loaded=loaded, settings=settings, vector=vector,
                            embed=assistant.embed_texts)
        candidates = propose(ctx)
        right = [is_correct(item, Answer(question=item["question"], text=c.text, refused=c.refused)) for c in candidates]
        out.append({"item": item, "vector": vector, "form": form_vector(ctx), "ctx": ctx, "candidates": candidates,
                    "right": right})
    return out


def fit_intents(rows: list[dict]) -> tuple[object, np.ndarray]:
    """Intent classifier on question vectors, and out-of-fold probabilities for the training rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict

    x = np.stack([r["form"] for r in rows])  # the question's form, not its topic (chooser.question_form)
    y = np.array([r["item"]["type"] for r in rows])
    groups = [r["item"]["group"] for r in rows]
    model = LogisticRegression(C=4.0, max_iter=2000)
    # Out-of-fold: the chooser must learn how far to trust the intent on questions it was not fitted to.
    folds = cross_val_predict(model, x, y, cv=GroupKFold(n_splits=5), groups=groups, method="predict_proba")
    model.fit(x, y)
    order = [list(model.classes_).index(t) if t in model.classes_ else None for t in INTENTS]
    probs = np.stack([folds[:, i] if i is not None else np.zeros(len(rows)) for i in order], axis=1)
    return model, probs


def intent_arrays(model) -> tuple[np.ndarray, np.ndarray]:
    """The classifier's weights in INTENTS order (a class never seen gets a very low score)."""
    classes = list(model.classes_)
    coef = np.stack([model.coef_[classes.index(t)] if t in classes else np.zeros(model.coef_.shape[1]) for t in INTENTS])
    bias = np.array([model.intercept_[classes.index(t)] if t in classes else -30.0 for t in INTENTS])
    return coef, bias


def fit_chooser(rows: list[dict], intents: np.ndarray, c: float = 0.5) -> dict:
    """One logistic scorer per answerer over standardised features."""
    from sklearn.linear_model import LogisticRegression

    per: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    every = []
    for row, probs in zip(rows, intents, strict=True):
        row["features"] = feature_rows(row["ctx"], row["candidates"], probs)
        for cand, feats, right in zip(row["candidates"], row["features"], row["right"], strict=True):
            per[cand.answerer][0].append(feats)
            per[cand.answerer][1].append(right)
            every.append(feats)
    matrix = np.stack(every)
    mean, scale = matrix.mean(axis=0), matrix.std(axis=0) + 1e-6
    coef = {}
    for answerer in ANSWERER_NAMES:
        x, y = per.get(answerer, ([], []))
        if not x:
            continue
        if len(set(y)) < 2:  # never (or always) right in training: a constant
            coef[answerer] = [(-6.0 if not y[0] else 6.0)] + [0.0] * matrix.shape[1]
            continue
        model = LogisticRegression(C=c, max_iter=5000)
        model.fit((np.stack(x) - mean) / scale, np.array(y))
        coef[answerer] = [float(model.intercept_[0])] + [float(w) for w in model.coef_[0]]
    return {"question_features": QUESTION_FEATURES, "candidate_features": CANDIDATE_FEATURES,
            "coef": coef, "mean": mean.tolist(), "scale": scale.tolist()}


def fit_threshold(rows: list[dict], intents: np.ndarray, c: float) -> float:
    """The least probability an answer needs, chosen on out-of-fold scores (in-sample ones are overconfident)."""
    from sklearn.model_selection import GroupKFold

    groups = [r["item"]["group"] for r in rows]
    scored: list[tuple[list[float], list[bool], list[bool]]] = []
    for fit_at, held in GroupKFold(n_splits=5).split(rows, groups=groups):
        chooser = fit_chooser([rows[i] for i in fit_at], intents[fit_at], c=c)
        fold = _model(None, None, chooser)
        for i in held:
            row = rows[i]
            feats = feature_rows(row["ctx"], row["candidates"], intents[i])
            scores = [fold.probability(cand.answerer, f) if meets_constraints(cand, row["ctx"]) else 0.0
                      for cand, f in zip(row["candidates"], feats, strict=True)]
            scored.append((scores, row["right"], [cand.refused for cand in row["candidates"]]))

    def accuracy(threshold: float) -> float:
        hits = 0
        for scores, right, refused in scored:
            best = int(np.argmax(scores))
            if not refused[best] and scores[best] < threshold:
                best = refused.index(True) if True in refused else best
            hits += right[best]
        return hits / len(scored)

    grid = [round(t, 2) for t in np.arange(0.0, 0.7, 0.02)]
    # The out-of-fold curve is flat near its top: a raise worth less than one question in two hundred is
    # noise, and each step up refuses answers people need. Take the lowest threshold that close to the best.
    top = max(accuracy(t) for t in grid)
    best = min(t for t in grid if accuracy(t) >= top - THRESHOLD_TOLERANCE)
    print(f"threshold {best} (out-of-fold accuracy {accuracy(best):.3f}; at 0: {accuracy(0.0):.3f})")
    return best


def _model(coef: np.ndarray | None, bias: np.ndarray | None, chooser: dict) -> Model:
    return Model(intent_coef=coef, intent_intercept=bias, coef={a: np.asarray(w) for a, w in chooser["coef"].items()},
                 mean=np.asarray(chooser["mean"]), scale=np.asarray(chooser["scale"]),
                 threshold=chooser.get("threshold", 0.0))


def report(rows: list[dict], model: Model | None, title: str) -> dict:
    """Accuracy by type of the chosen candidates, the oracle (some candidate right) and false refusals."""
    by_type: dict[str, list[bool]] = defaultdict(list)
    oracle, false_refusals = 0, 0
    for row in rows:
        chosen, _ = choose(row["ctx"], row["candidates"], model)
        right = row["right"][row["candidates"].index(chosen)]
        by_type[row["item"]["type"]].append(right)
        oracle += any(row["right"])
        false_refusals += chosen.refused and row["item"]["type"] != "unanswerable"
    total = sum(len(v) for v in by_type.values())
    accuracy = sum(sum(v) for v in by_type.values()) / max(1, total)
    types = " ".join(f"{t}={sum(v)}/{len(v)}" for t, v in sorted(by_type.items()))
    print(f"{title}: accuracy={accuracy:.3f} n={total} oracle={oracle / max(1, total):.3f} "
          f"false_refusals={false_refusals} | {types}")
    return {"accuracy": round(accuracy, 3), "n": total, "false_refusals": false_refusals}


def cross_validate(rows: list[dict], c: float, folds: int = 5) -> None:
    """Accuracy by type of the chooser fitted on the other folds, over every labelled question (folds by group).

    Four times the questions of the validation split: a feature or model change that is noise there shows here."""
    from sklearn.model_selection import GroupKFold

    by_type: dict[str, list[bool]] = defaultdict(list)
    false_refusals = 0
    for fit_at, held in GroupKFold(n_splits=folds).split(rows, groups=[r["item"]["group"] for r in rows]):
        train = [rows[i] for i in fit_at]
        intent_model, intents = fit_intents(train)
        fitted = _model(*intent_arrays(intent_model), fit_chooser(train, intents, c=c))
        for i in held:
            chosen, _ = choose(rows[i]["ctx"], rows[i]["candidates"], fitted)
            by_type[rows[i]["item"]["type"]].append(rows[i]["right"][rows[i]["candidates"].index(chosen)])
            false_refusals += chosen.refused and rows[i]["item"]["type"] != "unanswerable"
    total = sum(len(v) for v in by_type.values())
    types = " ".join(f"{t}={sum(v)}/{len(v)}" for t, v in sorted(by_type.items()))
    print(f"cross-validated ({folds} folds by group): accuracy={sum(sum(v) for v in by_type.values()) / max(1, total):.3f} "
          f"n={total} false_refusals={false_refusals} | {types}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report the current weights; fit nothing")
    parser.add_argument("--c", type=float, default=0.5, help="inverse regularisation of the chooser")
    parser.add_argument("--cv", action="store_true", help="cross-validate over every labelled question; fit nothing")
    parser.add_argument("--also", nargs="*", default=[], metavar="SET",
                        help="eval sets (tests/eval/SET.jsonl) to add to the pool, split by group like it")
    args = parser.parse_args()
    settings = Settings()
    rows = gather(labelled_items(args.also), settings)
    if args.cv:
        cross_validate(rows, c=args.c)
        return
    train = [r for r in rows if r["item"]["split"] == "train"]
    validation = [r for r in rows if r["item"]["split"] == "validation"]
    report(validation, None, "validation, legacy order")
    if args.check:
        report(validation, load_model(), "validation, current weights")
        return
    intent_model, intents = fit_intents(train)
    chooser = fit_chooser(train, intents, c=args.c)
    chooser["threshold"] = fit_threshold(train, intents, c=args.c)
    coef, bias = intent_arrays(intent_model)
    data = {"intent": {"classes": INTENTS, "coef": coef.tolist(), "intercept": bias.tolist()}, "chooser": chooser,
            "trained_on": {"train_questions": len(train), "validation_questions": len(validation)}}
    fitted = _model(coef, bias, chooser)
    report(train, fitted, "train (fitted on)")
    data["validation"] = report(validation, fitted, "validation")
    temporary = Path(WEIGHTS).with_suffix(".tmp")  # a running app must never read half a file
    temporary.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    os.replace(temporary, WEIGHTS)
    print(f"wrote {WEIGHTS}")


if __name__ == "__main__":
    main()
