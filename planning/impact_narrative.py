"""Plain-English summary sentences written from the published impact figures only."""

from __future__ import annotations

from planning.impact_figures import SummaryFigures, month_label

__all__ = ["narrative"]


def _moved(a: int, b: int) -> str:
    if b > a:
        return "rose"
    if b < a:
        return "fell"
    return "stayed"


def _sentence(subject: str, a: int, b: int, change: str) -> str:
    verb = _moved(a, b)
    if verb == "stayed":
        return f"{subject} stayed at {b:,}."
    extra = f" ({change})" if change and change not in ("no change", "about the same") else ""
    return f"{subject} {verb} from {a:,} to {b:,}{extra}."


def _category_sentences(figs: SummaryFigures) -> list[str]:
    """Up to four sentences on the most reported categories, this period against the last."""
    out: list[str] = []
    ranked = sorted(
        figs.categories,
        key=lambda c: -(figs.published(("p", c, "this")) or 0),
    )
    for c in ranked:
        a = figs.published(("p", c, "previous"))
        b = figs.published(("p", c, "this"))
        if a is None or b is None or (a == 0 and b == 0):
            continue
        label = figs.labels[c]
        subject = (
            f"Reports of {label[0].lower() + label[1:]}"
            if not label.isupper()
            else f"Reports of {label}"
        )
        out.append(_sentence(subject, a, b, figs.change(("p", c, "previous"), ("p", c, "this"))))
        if len(out) >= 4:
            break
    return out


def _period_sentences(figs: SummaryFigures) -> list[str]:
    """All reports and the main categories against the previous period (or this period alone)."""
    out: list[str] = []
    this_l = figs.period_label("this")
    where = f" in {figs.area_name}" if figs.area_name else ""
    tot = figs.published(("pt", "this"))
    if "previous" in figs.periods:
        prev_l = figs.period_label("previous")
        a, b = figs.published(("pt", "previous")), tot
        if a is not None and b is not None:
            ch = figs.change(("pt", "previous"), ("pt", "this"))
            out.append(
                _sentence("Reports of all kinds", a, b, ch).rstrip(".")
                + f"{where}, comparing {this_l} with {prev_l}."
            )
        out.extend(_category_sentences(figs))
    elif tot is not None:
        out.append(f"There were {tot:,} reports{where} in {this_l}.")
    missing = [m for m in figs.periods["this"] if m in figs.no_data]
    if missing:
        months = ", ".join(month_label(m) for m in missing)
        out.append(
            f"No reports were imported{where} for {months}: those months read \u201cno data\u201d."
        )
    return out


def _last_year_sentences(figs: SummaryFigures) -> list[str]:
    if "last_year" not in figs.periods:
        return []
    a, b = figs.published(("pt", "last_year")), figs.published(("pt", "this"))
    if a is None or b is None:
        return []
    ch = figs.change(("pt", "last_year"), ("pt", "this"))
    return [_sentence("Against the same months a year earlier, reports", a, b, ch)]


def _effort_sentences(figs: SummaryFigures) -> list[str]:
    if not (figs.effort and figs.effort.get("visits")):
        return []
    e = figs.effort
    hours = e["minutes"] / 60.0
    hours_txt = f"{hours:.0f} hours" if hours >= 2 else f"{e['minutes']:.0f} minutes"
    return [
        f"Patrol teams made {e['visits']:,} {e.get('source', 'planned')} hotspot visits on "
        f"{e['days']:,} "
        f"day{'s' if e['days'] != 1 else ''}, about {hours_txt} on scene in all."
    ]


#: How the sentence on the patrolled hotspots and on the rest of the area opens.
_INSIDE_OPENINGS = (
    ("in", "Inside the patrolled hotspots, reports"),
    ("out", "in the rest of the area they"),
)


def _inside_sentences(figs: SummaryFigures) -> list[str]:
    if not figs.has_inside:
        return []
    parts = []
    for where, opening in _INSIDE_OPENINGS:
        before, now = figs.published((where, "previous")), figs.published((where, "this"))
        if before is not None and now is not None:
            change = figs.change((where, "previous"), (where, "this"))
            parts.append(_sentence(opening, before, now, change).rstrip("."))
    if not parts:
        return []
    return [
        "; ".join(parts) + ". A change after patrols does not by itself show the patrols caused it."
    ]


def narrative(figs: SummaryFigures) -> list[str]:
    """Write the plain-English summary from published figures only.

    A sentence is written only when every count it quotes is published, so no hidden count
    (and nothing that would give one away) appears in the text.

    Parameters
    ----------
    figs
        The summary's figures; only their published counts are quoted.

    Returns
    -------
    list of str
        The sentences, in reading order.
    """
    out = [
        *_period_sentences(figs),
        *_last_year_sentences(figs),
        *_effort_sentences(figs),
        *_inside_sentences(figs),
    ]
    if figs.primary:
        out.append(
            f"Where a number is small it is shown as \u201cfewer than {figs.threshold}\u201d so that no person or "
            "doorstep can be identified."
        )
    return out
