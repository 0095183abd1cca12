"""The greedy truck-factor estimate over a file → owners map."""

from collections import Counter


def truck_factor(owners: dict[str, list[str]], coverage: float = 0.5) -> tuple[int, list[str]]:
    """The fewest authors whose departure leaves at most ``coverage`` of the files owned."""
    remaining = {path: set(people) for path, people in owners.items()}
    total = len(remaining)
    gone: list[str] = []
    while True:
        orphaned = sum(1 for people in remaining.values() if not people)
        if orphaned > total * coverage:
            return len(gone), gone
        counts = Counter(person for people in remaining.values() for person in people)
        if not counts:
            return len(gone), gone
        top = max(sorted(counts), key=lambda person: counts[person])
        gone.append(top)
        for people in remaining.values():
            people.discard(top)
