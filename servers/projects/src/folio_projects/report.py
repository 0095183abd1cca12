"""Summaries, the Markdown report and the facts behind insights, from the computed numbers."""

from __future__ import annotations

from typing import Any


def summary_line(name: str, s: dict[str, Any], langs: list[dict[str, Any]], owner_share: float | None) -> str:
    top = ", ".join(lang["language"] for lang in langs[:3]) or "no counted code"
    span = (
        f"{(s['first_commit'] or '')[:10]} → {(s['last_commit'] or '')[:10]}"
        if s["commits"]
        else "no commits"
    )
    share = f", owner {owner_share:.0%}" if owner_share is not None else ""
    return f"{name}: {s['commits']} commits, {span}, {top}{share}"


def insights(
    s: dict[str, Any], langs: list[dict[str, Any]], bus: dict[str, Any], hot: list[dict[str, Any]]
) -> list[str]:
    facts: list[str] = []
    months = s["by_month"]
    if len(months) >= 2:
        last, before = months[-1], months[-2]
        trend = (
            "up"
            if last["commits"] > before["commits"]
            else "down"
            if last["commits"] < before["commits"]
            else "flat"
        )
        facts.append(
            f"Commits in {last['month']}: {last['commits']} ({trend} from {before['commits']} in {before['month']})."
        )
    if s["by_author"]:
        lead = s["by_author"][0]
        facts.append(
            f"{lead['author']} made {lead['commits']} of {s['commits']} commits ({lead['commits'] / max(s['commits'], 1):.0%})."
        )
    busiest = max(s["by_weekday"].items(), key=lambda kv: kv[1]) if s["commits"] else None
    if busiest:
        facts.append(
            f"Busiest weekday: {busiest[0]} ({busiest[1]} commits); active on {s['active_days']} days."
        )
    if langs:
        total = sum(lang["code"] for lang in langs) or 1
        facts.append(
            f"Main language: {langs[0]['language']} ({langs[0]['code'] / total:.0%} of {total} code lines)."
        )
    facts.append(
        f"Truck factor {bus['truck_factor']}"
        + (f" ({', '.join(bus['authors'])})." if bus["authors"] else ".")
    )
    if hot:
        facts.append(
            f"Top hotspot: {hot[0]['path']} ({hot[0]['changes']} changes, complexity {hot[0]['complexity']})."
        )
    return facts


def markdown(
    name: str,
    description: str,
    s: dict[str, Any],
    langs: list[dict[str, Any]],
    bus: dict[str, Any],
    hot: list[dict[str, Any]],
) -> str:
    lines = [f"# {name}", ""]
    if description:
        lines += [description, ""]
    lines += [
        f"- Commits: {s['commits']} (merges and bots excluded) on {s['active_days']} active days",
        f"- Lines: +{s['lines_added']} / -{s['lines_removed']}",
        f"- History: {(s['first_commit'] or '-')[:10]} to {(s['last_commit'] or '-')[:10]}",
        f"- Truck factor: {bus['truck_factor']} ({', '.join(bus['authors']) or 'nobody'})",
        "",
        "## Languages",
        "",
        "| language | files | code | comment | blank |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {lang['language']} | {lang['files']} | {lang['code']} | {lang['comment']} | {lang['blank']} |"
        for lang in langs
    ]
    lines += ["", "## Contributors", "", "| author | commits | + | - |", "|---|---:|---:|---:|"]
    lines += [
        f"| {a['author']} | {a['commits']} | {a['added']} | {a['removed']} |" for a in s["by_author"][:15]
    ]
    lines += ["", "## Hotspots", "", "| file | changes | complexity | score |", "|---|---:|---:|---:|"]
    lines += [f"| {h['path']} | {h['changes']} | {h['complexity']} | {h['score']} |" for h in hot[:10]]
    lines += ["", "## Insights", ""] + [f"- {f}" for f in insights(s, langs, bus, hot)]
    return "\n".join(lines) + "\n"
